//! `bench`: milliseconds per network evaluation at several sizes on each device, plus peak
//! memory. Printed as a Markdown table (pasted into the README).

use std::time::Instant;

use anyhow::{Context, Result, bail};
use bcm_studio::engine::device::{DeviceChoice, SelectedDevice, adapters, cpu, select};
use bcm_studio::engine::jpeg::jpeg_consistent;
use bcm_studio::engine::network::UNetConfig;
use bcm_studio::engine::noise_level::estimate_noise;
use bcm_studio::engine::tasks::{self, InpaintParams, RestoreParams};
use bcm_studio::engine::train::TrainConfig;
use bcm_studio::engine::train::timing::time_steps;
use bcm_studio::engine::train::validate::jpeg_file;
use bcm_studio::engine::{Bcm, Mask, NoiseRng, Planar, Progress, Tiling};
use bcm_studio::util::memory::peak_rss_mib;

fn devices(requested: &[String]) -> Result<Vec<SelectedDevice>> {
    if requested.is_empty() {
        let mut list = vec![cpu()];
        if !adapters().is_empty() {
            match select(DeviceChoice::Wgpu) {
                Ok(d) => list.push(d),
                Err(e) => eprintln!("wgpu skipped: {e}"),
            }
        }
        return Ok(list);
    }
    requested
        .iter()
        .map(|name| {
            let choice: DeviceChoice = name.parse()?;
            Ok(select(choice)?)
        })
        .collect()
}

fn memory_note(dev: &SelectedDevice) -> String {
    if dev.description.starts_with("wgpu") {
        match dev.device.memory_pool_usage() {
            Some(u) => format!(
                "{:.0} MiB reserved on device",
                u.bytes_reserved as f64 / 1048576.0
            ),
            None => "n/a".into(),
        }
    } else {
        peak_rss_mib().map_or_else(|| "n/a".into(), |m| format!("{m:.0} MiB peak RSS"))
    }
}

/// Untimed calls before each measurement: on a GPU burn compiles kernels and autotunes them for
/// every new shape during the first calls, which would otherwise land in the mean.
const WARM_UP_CALLS: usize = 3;

fn training_line(
    preset: &str,
    batch: Option<usize>,
    dev: &SelectedDevice,
    repeat: usize,
) -> Result<()> {
    let mut config = TrainConfig::for_preset(preset, std::path::PathBuf::new())?;
    if let Some(b) = batch {
        config.batch = b;
    }
    let seconds = time_steps(&config, &dev.device, WARM_UP_CALLS, repeat)?;
    println!(
        "| {} | BCT training step, batch {} × {}² | {:.0} ms/step = {:.2} steps/s, {:.1} images/s | {} |",
        dev.description,
        config.batch,
        config.patch,
        seconds * 1000.0,
        1.0 / seconds,
        config.batch as f64 / seconds,
        memory_note(dev)
    );
    Ok(())
}

/// The JPEG-consistency projection a restoration runs after each pass (CPU, no network).
fn jpeg_line(size: usize, repeat: usize) -> Result<()> {
    let mut photo = Planar::zeros(3, size, size);
    photo.add_scaled(&NoiseRng::new(2).normal(photo.data.len()), 0.3);
    photo.clamp_unit();
    let (decoded, tables) = jpeg_file(&photo, 10)?;
    let mut restored = decoded.clone();
    restored.add_scaled(&NoiseRng::new(3).normal(restored.data.len()), 0.05);
    let start = Instant::now();
    for _ in 0..repeat {
        jpeg_consistent(&restored, &decoded, &tables)?;
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0 / repeat as f64;
    // Its memory (two images' colour planes) is far below the network's, so no column.
    println!(
        "| CPU | JPEG-consistency projection at {size}² (one restoration pass) | {ms:.1} ms | – |"
    );
    Ok(())
}

/// Inpainting a 64×64 hole in a 12-megapixel photo with the default settings: only a crop
/// around the hole goes through the network, so this is seconds whatever the photo's size.
fn inpaint_line(model: &Bcm, dev: &SelectedDevice, repeat: usize, tiling: &Tiling) -> Result<()> {
    let (w, h) = (4000, 3000);
    let mut photo = Planar::zeros(3, h, w);
    photo.add_scaled(&NoiseRng::new(4).normal(photo.data.len()), 0.3);
    photo.clamp_unit();
    let mut mask = Mask::empty(w, h);
    for y in 1500..1564 {
        mask.data[y * w + 2000..y * w + 2064].fill(1.0);
    }
    let p = InpaintParams::default();
    tasks::inpaint(model, None, &photo, &mask, &p, tiling, &mut ())?;
    let start = Instant::now();
    let mut nfe = 0;
    for _ in 0..repeat {
        nfe = tasks::inpaint(model, None, &photo, &mask, &p, tiling, &mut ())?.nfe;
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0 / repeat as f64;
    println!(
        "| {} | inpaint a 64×64 hole in a 4000×3000 photo, default settings ({nfe} NFE) | {ms:.0} ms | {} |",
        dev.description,
        memory_note(dev)
    );
    Ok(())
}

/// Restoring a 4000×3000 JPEG (quality 30) as `restore` does with no flags: the strength and
/// passes suggested from the file and the noise measured in it, the default tiling. Run once
/// (it takes tens of seconds) and before anything larger, so that the peak memory is its own.
fn restore_line(model: &Bcm, dev: &SelectedDevice) -> Result<()> {
    let (w, h) = (4000, 3000);
    // Smooth shapes with a little grain, so the noise estimate reads a photo, not static.
    let mut photo = Planar::zeros(3, h, w);
    for c in 0..3 {
        for y in 0..h {
            for x in 0..w {
                let (fy, fx) = (y as f32 / 97.0, x as f32 / (71.0 + 13.0 * c as f32));
                photo.data[(c * h + y) * w + x] = 0.6 * (fy.sin() * fx.cos());
            }
        }
    }
    photo.add_scaled(&NoiseRng::new(5).normal(photo.data.len()), 0.01);
    photo.clamp_unit();
    let (decoded, tables) = jpeg_file(&photo, 30)?;
    let start = Instant::now();
    let params = RestoreParams::suggested(estimate_noise(&decoded), Some(tables));
    let tiling = Tiling::default();
    let out = tasks::restore(model, &decoded, &params, &tiling, &mut ())?;
    let seconds = start.elapsed().as_secs_f64();
    let tiles = model.tiles(h, w, &tiling).len();
    println!(
        "| {} | restore a 4000×3000 JPEG (q30), default settings ({} NFE of {tiles} tiles) | {seconds:.1} s | {} |",
        dev.description,
        out.nfe,
        memory_note(dev)
    );
    Ok(())
}

pub fn run(
    repeat: usize,
    sizes: &[usize],
    preset: &str,
    requested: &[String],
    batch: Option<usize>,
    photo_scale: bool,
) -> Result<()> {
    let config =
        UNetConfig::preset(preset).with_context(|| format!("unknown preset '{preset}'"))?;
    if repeat == 0 || sizes.iter().any(|&s| !(16..=4096).contains(&s)) {
        bail!("--repeat must be positive and sizes in 16-4096");
    }
    println!(
        "preset `{preset}`: {} parameters, receptive field ±{} px, batch 1, random weights",
        config.param_count(),
        config.receptive_radius()
    );
    println!();
    println!("| device | work | time (mean of {repeat}) | peak memory |");
    println!("|---|---|---|---|");
    for dev in devices(requested)? {
        let model = Bcm::random(config.clone(), 0, &dev.device)?;
        // One tile per image, so the table measures the network and not the tiling.
        let tiling = Tiling {
            max_pixels: usize::MAX,
            tile: 4096,
        };
        for &size in sizes {
            let mut x = Planar::zeros(3, size, size);
            x.add_scaled(&NoiseRng::new(1).normal(x.data.len()), 80.0);
            let progress = Progress {
                nfe: 0,
                nfe_total: 1,
                tile: 0,
                tiles: 1,
                level: 80.0,
            };
            for _ in 0..WARM_UP_CALLS {
                model.eval(&x, 80.0, 0.002, &tiling, &mut (), progress)?;
            }
            let start = Instant::now();
            for _ in 0..repeat {
                model.eval(&x, 80.0, 0.002, &tiling, &mut (), progress)?;
            }
            let ms = start.elapsed().as_secs_f64() * 1000.0 / repeat as f64;
            println!(
                "| {} | one NFE at {size}² | {ms:.1} ms | {} |",
                dev.description,
                memory_note(&dev)
            );
        }
        // Inpainting runs a model that also reads the hole's mask, as the shipped one does.
        let inpainter = Bcm::random(
            config
                .clone()
                .with_condition_channels(Some(tasks::CONDITION_CHANNELS)),
            0,
            &dev.device,
        )?;
        inpaint_line(&inpainter, &dev, repeat, &tiling)?;
        if photo_scale {
            restore_line(&model, &dev)?;
        }
        training_line(preset, batch, &dev, repeat)?;
    }
    jpeg_line(1024, repeat)?;
    Ok(())
}
