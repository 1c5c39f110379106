//! Every subcommand on a small photo, and pixel formats kept through them.

use super::*;

#[test]
fn every_subcommand_on_a_small_photo() {
    let d = tempdir("all");
    let input = d.join("in.png");
    save(&photo(64, 64), &input);
    let p = |n: &str| d.join(n).display().to_string();
    let i = input.display().to_string();

    let log = ok(&["reconstruct", &i, "-o", &p("rec.png"), "--nfe", "2"]);
    assert!(log.contains("NFE: 2 inversion + 2 generation = 4"), "{log}");
    assert_eq!(recipe_of(&d.join("rec.png"))["command"], "reconstruct");

    ok(&[
        "generate",
        "--width",
        "48",
        "--height",
        "40",
        "--nfe",
        "3",
        "-o",
        &p("gen.png"),
    ]);
    assert_eq!(
        image::open(d.join("gen.png")).unwrap().dimensions(),
        (48, 40)
    );
    assert_eq!(recipe_of(&d.join("gen.png"))["nfe"], 3);

    ok(&[
        "invert",
        &i,
        "--sigma",
        "15",
        "-o",
        &p("lat.safetensors"),
        "--preview",
        &p("lat.png"),
    ]);
    ok(&[
        "generate",
        "--from",
        &p("lat.safetensors"),
        "--nfe",
        "2",
        "-o",
        &p("back.png"),
    ]);
    // The generation comes down the 2-NFE ladder the embedded model's card names (read from
    // the card: a retrained model changes the levels, not this test).
    let style = bcm_studio::engine::weights::embedded_card()
        .unwrap()
        .ladder_style()
        .unwrap();
    let ladder = bcm_studio::engine::Plan::generation(style, 2, 15.0).unwrap();
    assert_eq!(
        recipe_of(&d.join("back.png"))["schedule"][0],
        ladder.to_string().as_str()
    );

    ok(&["interpolate", &i, &i, "--frames", "3", "-o", &p("mix.png")]);
    for k in 0..3 {
        assert!(d.join(format!("mix-{k:03}.png")).is_file());
    }
    ok(&[
        "interpolate",
        &i,
        &i,
        "--frames",
        "4",
        "--strip",
        "-o",
        &p("strip.png"),
    ]);
    assert_eq!(
        image::open(d.join("strip.png")).unwrap().dimensions(),
        (256, 64)
    );

    let mask = DynamicImage::ImageLuma8(image::GrayImage::from_fn(64, 64, |x, y| {
        image::Luma([if (20..40).contains(&x) && (20..40).contains(&y) {
            255
        } else {
            0
        }])
    }));
    save(&mask, &d.join("mask.png"));
    ok(&[
        "inpaint",
        &i,
        "--mask",
        &p("mask.png"),
        "--levels",
        "20,2,0.2",
        "--feather",
        "2",
        "-o",
        &p("inp.png"),
    ]);
    let (a, b) = (
        image::open(&input).unwrap().to_rgb8(),
        image::open(d.join("inp.png")).unwrap().to_rgb8(),
    );
    // Far from the mask (beyond grow + feather) every pixel is untouched.
    for (x, y, px) in a.enumerate_pixels() {
        if !(10..50).contains(&x) || !(10..50).contains(&y) {
            assert_eq!(px, b.get_pixel(x, y), "({x},{y}) changed outside the mask");
        }
    }
    assert_ne!(a.get_pixel(30, 30), b.get_pixel(30, 30));

    ok(&[
        "inpaint",
        &i,
        "--mask",
        &p("mask.png"),
        "--levels",
        "0.5,0.1",
        "--content",
        "fill",
        "-o",
        &p("inp-fill.png"),
    ]);
    assert_eq!(
        recipe_of(&d.join("inp-fill.png"))["params"]["content"],
        "Fill"
    );

    ok(&["restore", &i, "--sigma", "0.2", "-o", &p("res.jpg")]);
    ok(&["restore", &i, "--mirrors", "4", "-o", &p("res4.png")]);
    assert_eq!(recipe_of(&d.join("res4.png"))["params"]["mirrors"], 4);
    assert!(
        std::fs::read(d.join("res.jpg"))
            .unwrap()
            .windows(10)
            .any(|w| w == b"bcm-studio"),
        "JPEG carries its recipe"
    );
    // A JPEG input: its quality sets the defaults and every pass fits the file.
    let said = ok(&["restore", &p("res.jpg"), "-o", &p("res-jpeg.png")]);
    assert!(said.contains("JPEG of quality about 92"), "{said}");
    let r = recipe_of(&d.join("res-jpeg.png"));
    assert_eq!(r["params"]["jpeg_quality"], 92);
    assert_eq!(
        r["params"]["passes"],
        bcm_studio::engine::tasks::JPEG_PASSES
    );
    assert!(
        r["schedule"][0]
            .as_str()
            .unwrap()
            .contains("JPEG-consistent")
    );
    ok(&[
        "restore",
        &p("res.jpg"),
        "--ignore-jpeg",
        "-o",
        &p("res-plain.png"),
    ]);
    let r = recipe_of(&d.join("res-plain.png"));
    assert!(r["params"]["jpeg_quality"].is_null());
    assert_eq!(r["params"]["passes"], 1);

    let strokes = DynamicImage::ImageRgba8(image::RgbaImage::from_fn(64, 64, |x, _| {
        image::Rgba([255, 0, 0, if (10..20).contains(&x) { 255 } else { 0 }])
    }));
    save(&strokes, &d.join("strokes.png"));
    ok(&[
        "edit",
        &i,
        "--strokes",
        &p("strokes.png"),
        "--sigma",
        "1.5",
        "-o",
        &p("edit.webp"),
    ]);
    assert!(d.join("edit.webp").is_file());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn pixel_formats_are_kept() {
    let d = tempdir("formats");
    let rgba = DynamicImage::ImageRgba8(image::RgbaImage::from_fn(32, 32, |x, y| {
        image::Rgba([x as u8 * 8, y as u8 * 8, 90, (x * 7) as u8])
    }));
    save(&rgba, &d.join("rgba.png"));
    ok(&[
        "restore",
        &d.join("rgba.png").display().to_string(),
        "-o",
        &d.join("rgba-out.png").display().to_string(),
    ]);
    let out = image::open(d.join("rgba-out.png")).unwrap();
    assert_eq!(out.color(), image::ColorType::Rgba8);
    assert_eq!(out.to_rgba8().get_pixel(5, 3).0[3], 35, "alpha kept");

    let gray16 = DynamicImage::ImageLuma16(image::ImageBuffer::from_fn(32, 32, |x, y| {
        image::Luma([(x * 2000 + y * 13) as u16])
    }));
    save(&gray16, &d.join("g16.png"));
    ok(&[
        "reconstruct",
        &d.join("g16.png").display().to_string(),
        "--nfe",
        "1",
        "-o",
        &d.join("g16-out.png").display().to_string(),
    ]);
    assert_eq!(
        image::open(d.join("g16-out.png")).unwrap().color(),
        image::ColorType::L16
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_sideways_phone_jpeg_is_restored_upright_and_keeps_its_metadata() {
    use image::ImageDecoder;
    let d = tempdir("sideways");
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sideways-phone.jpg");
    let metadata = |path: &Path| {
        let mut dec = image::ImageReader::open(path)
            .unwrap()
            .with_guessed_format()
            .unwrap()
            .into_decoder()
            .unwrap();
        (
            dec.orientation().unwrap(),
            dec.exif_metadata().unwrap(),
            dec.icc_profile().unwrap(),
        )
    };
    let (_, _, icc) = metadata(&input);
    for name in ["restored.jpg", "restored.png"] {
        let out = d.join(name);
        ok(&[
            "restore",
            &input.display().to_string(),
            "-o",
            &out.display().to_string(),
        ]);
        let img = image::open(&out).unwrap();
        assert_eq!(img.dimensions(), (240, 128), "{name} is upright");
        let (orientation, exif, out_icc) = metadata(&out);
        assert_eq!(
            orientation,
            image::metadata::Orientation::NoTransforms,
            "{name}"
        );
        let exif = exif.unwrap_or_else(|| panic!("{name} keeps the EXIF"));
        assert!(
            exif.windows(15).any(|w| w == b"bcm-studio test"),
            "{name}: the camera make survives"
        );
        assert_eq!(out_icc, icc, "{name}: the colour profile survives");
    }
    // Restored upright and consistent with the file's (sideways) 8×8 grid: close to the photo.
    let restored = image::open(d.join("restored.png")).unwrap().to_rgb8();
    let upright = image::open(&input).unwrap().rotate90().to_rgb8();
    let mse = restored
        .as_raw()
        .iter()
        .zip(upright.as_raw())
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
        .sum::<f64>()
        / restored.as_raw().len() as f64;
    assert!(
        mse < 30.0,
        "the restoration strays from the photo: MSE {mse}"
    );
}
