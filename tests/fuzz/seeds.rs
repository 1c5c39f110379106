//! The seed corpus: one small valid file of each kind a target reads, written by the
//! program's own encoders (`write_seeds` in main.rs runs this).

use std::path::Path;

use bcm_studio::engine::latent_file;
use bcm_studio::engine::network::UNetConfig;
use bcm_studio::engine::train::TrainConfig;
use bcm_studio::engine::train::checkpoint::CheckpointState;
use bcm_studio::engine::weights::{self, ModelCard};
use bcm_studio::engine::{Bcm, Planar};
use bcm_studio::photo::{self, OutputFormat, Recipe, SaveOptions};
use burn::tensor::Device;
use image::{DynamicImage, ImageBuffer, Luma, LumaA, Rgb, Rgba};

fn put(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let d = dir.join(target);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(name), bytes).unwrap();
}

fn encode(img: &DynamicImage, format: OutputFormat, recipe: Option<&Recipe>) -> Vec<u8> {
    photo::encode(img, format, recipe, SaveOptions { jpeg_quality: 75 }).unwrap()
}

/// A 12×8 palette PNG (the image crate writes none, the png crate does).
fn palette_png() -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, 12, 8);
    enc.set_color(png::ColorType::Indexed);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_palette(vec![0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255]);
    let mut w = enc.write_header().unwrap();
    let data: Vec<u8> = (0..96).map(|i| (i % 4) as u8).collect();
    w.write_image_data(&data).unwrap();
    drop(w);
    out
}

/// Files named `crash-*` are inputs that once crashed a target: they stay.
pub fn write_all(dir: &Path) {
    let rgb = DynamicImage::ImageRgb8(ImageBuffer::from_fn(16, 12, |x, y| {
        Rgb([(x * 15) as u8, (y * 20) as u8, ((x + y) * 7) as u8])
    }));
    let rgb16 = DynamicImage::ImageRgb16(ImageBuffer::from_fn(9, 7, |x, y| {
        Rgb([(x * 7000) as u16, (y * 9000) as u16, 4000])
    }));
    let grey =
        DynamicImage::ImageLuma8(ImageBuffer::from_fn(10, 10, |x, _| Luma([(x * 25) as u8])));
    let grey_alpha = DynamicImage::ImageLumaA8(ImageBuffer::from_fn(8, 8, |x, y| {
        LumaA([200, if (x + y) % 2 == 0 { 255 } else { 0 }])
    }));
    let rgba = DynamicImage::ImageRgba8(ImageBuffer::from_fn(8, 6, |x, y| {
        Rgba([x as u8 * 30, y as u8 * 40, 90, 128])
    }));
    put(
        dir,
        "images",
        "rgb8.png",
        &encode(&rgb, OutputFormat::Png, None),
    );
    put(
        dir,
        "images",
        "rgb16.png",
        &encode(&rgb16, OutputFormat::Png, None),
    );
    put(
        dir,
        "images",
        "grey.png",
        &encode(&grey, OutputFormat::Png, None),
    );
    put(
        dir,
        "images",
        "grey-alpha.png",
        &encode(&grey_alpha, OutputFormat::Png, None),
    );
    put(
        dir,
        "images",
        "rgba.png",
        &encode(&rgba, OutputFormat::Png, None),
    );
    put(dir, "images", "palette.png", &palette_png());
    let jpeg = encode(&rgb, OutputFormat::Jpeg, None);
    let grey_jpeg = encode(&grey, OutputFormat::Jpeg, None);
    put(dir, "images", "photo.jpg", &jpeg);
    put(dir, "images", "grey.jpg", &grey_jpeg);
    put(
        dir,
        "images",
        "photo.webp",
        &encode(&rgb, OutputFormat::WebP, None),
    );
    put(dir, "jpeg", "photo.jpg", &jpeg);
    put(dir, "jpeg", "grey.jpg", &grey_jpeg);

    put(
        dir,
        "masks",
        "grey.png",
        &encode(&grey, OutputFormat::Png, None),
    );
    put(
        dir,
        "masks",
        "alpha.png",
        &encode(&grey_alpha, OutputFormat::Png, None),
    );
    put(
        dir,
        "masks",
        "strokes.png",
        &encode(&rgba, OutputFormat::Png, None),
    );

    let recipe = Recipe::new(
        "inpaint",
        vec!["80 > 2.4 > 0.002".into()],
        7,
        "fuzz",
        2,
        serde_json::json!({"grow": 4}),
    );
    put(
        dir,
        "recipe",
        "with-recipe.png",
        &encode(&rgb, OutputFormat::Png, Some(&recipe)),
    );

    let latent = Planar::new(3, 4, 4, (0..48).map(|v| v as f32 / 10.0 - 2.0).collect()).unwrap();
    put(
        dir,
        "latent",
        "latent.safetensors",
        &latent_file::encode(&latent, 15.0, recipe.to_json()).unwrap(),
    );

    for (name, text) in [
        ("two-step.txt", "80 > 2.4 > 0.002"),
        ("inversion.txt", "0.002 > +0.07 > 15 > 80"),
        ("zigzag.txt", "80 > 0.002 > +0.1 > 1.2 > 0.002"),
        ("levels.txt", "2, 0.6, 0.2"),
    ] {
        put(dir, "schedule", name, text.as_bytes());
    }

    let config = UNetConfig {
        channels: 8,
        norm_groups: 4,
        ..UNetConfig::tiny()
    };
    let model = Bcm::random(config.clone(), 1, &Device::flex()).unwrap();
    let card = ModelCard {
        half_precision: true,
        ..ModelCard::new("fuzz", config)
    };
    put(
        dir,
        "model",
        "m.json",
        &serde_json::to_vec_pretty(&card).unwrap(),
    );
    put(
        dir,
        "model",
        "m.safetensors",
        &weights::weights_to_bytes(&model, true).unwrap(),
    );

    let run = TrainConfig::for_preset("tiny", "photos".into()).unwrap();
    put(
        dir,
        "run",
        "config.json",
        &serde_json::to_vec_pretty(&run).unwrap(),
    );
    let state = CheckpointState {
        step: 10,
        train_seconds: 3.5,
        seed: 1,
    };
    put(
        dir,
        "run",
        "state.json",
        &serde_json::to_vec_pretty(&state).unwrap(),
    );
}
