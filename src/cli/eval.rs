//! `eval`: the model's numbers on held-out photos, as aligned tables or (`--markdown`) as the
//! Markdown the model card pastes.

use std::path::PathBuf;

use anyhow::{Result, bail};
use bcm_studio::engine::Planar;
use bcm_studio::engine::plan::Plan;
use bcm_studio::engine::tasks::{InpaintParams, MaskedContent};
use bcm_studio::engine::train::data::{CropSpec, PhotoCache, PhotoSet, validation_batch};
use bcm_studio::engine::train::inpaint_eval::{self, CROP, HoleKind, RING};
use bcm_studio::engine::train::validate::{
    images, jpeg_restoration, noisy_restoration, reconstruction,
};

use super::common::Session;
use super::table::Table;

/// Noise levels of the noisy-photo restorations (σ on the [-1, 1] scale).
const NOISE: [f32; 2] = [0.1, 0.2];

/// JPEG qualities restored with the settings suggested from the file, each with 1, 2 and 3
/// passes: what each pass adds is what decides how many a photo gets.
const JPEG_QUALITIES: [u8; 2] = [10, 30];
const JPEG_PASSES: [usize; 3] = [1, 2, 3];

/// Round trips' NFE each way.
const ROUND_TRIPS: [usize; 4] = [1, 2, 4, 8];

/// What `eval` measures.
pub struct EvalRequest {
    /// Photos whose validation split is measured.
    pub data: PathBuf,
    /// Photos kept out of every training and selection decision (all of them are used).
    pub test_data: Option<PathBuf>,
    pub max_images: usize,
    pub size: usize,
    pub inpainting_only: bool,
    pub inpaint: InpaintParams,
    /// Markdown tables instead of aligned text.
    pub markdown: bool,
}

pub fn run(session: &Session, r: &EvalRequest) -> Result<()> {
    let size = r.size;
    if !(16..=1024).contains(&size) || !size.is_multiple_of(session.model.config.alignment()) {
        bail!(
            "--size must be 16-1024 and a multiple of {}",
            session.model.config.alignment()
        );
    }
    let set = PhotoSet::scan(&r.data, 10)?;
    let test_files = match &r.test_data {
        Some(dir) => Some(all_photos(dir)?),
        None => None,
    };
    let model = &session.model;
    println!(
        "Model `{}` ({}); validation: the held-out photos of {}{}.",
        model.info.name,
        model.info.ladders.describe(),
        r.data.display(),
        r.test_data.as_ref().map_or(String::new(), |d| format!(
            "; test: the photos of {}, which no training or selection decision looked at",
            d.display()
        )),
    );
    println!();
    if !r.inpainting_only {
        let batch = validation_batch(
            &set,
            &PhotoCache::default(),
            CropSpec {
                patch: size,
                downscale: 2,
            },
            r.max_images,
        )?;
        let mut splits = vec![images(&batch)];
        if let Some(files) = &test_files {
            splits.push(inpaint_eval::crops(files, r.max_images, size)?);
        }
        print!(
            "{}",
            restoration_table(session, &splits, size)?.render(r.markdown)
        );
    }
    let mut splits = vec![(
        "validation",
        inpaint_eval::crops(&set.validation, r.max_images, CROP)?,
    )];
    if let Some(files) = &test_files {
        splits.push(("test", inpaint_eval::crops(files, r.max_images, CROP)?));
    }
    print!(
        "{}",
        inpainting_table(session, &splits, &r.inpaint)?.render(r.markdown)
    );
    Ok(())
}

/// Every photo under `dir`, sorted (a test folder is used whole).
fn all_photos(dir: &std::path::Path) -> Result<Vec<PathBuf>> {
    let set = PhotoSet::scan(dir, 10)?;
    let mut files: Vec<PathBuf> = set.train.into_iter().chain(set.validation).collect();
    files.sort();
    files.dedup();
    Ok(files)
}

/// One row's figures on each split, as table cells; the last split's value too.
fn cells<T>(
    splits: &[Vec<Planar>],
    mut measure: impl FnMut(&[Planar]) -> Result<T>,
    show: impl Fn(&T) -> String,
) -> Result<(Vec<String>, T)> {
    let mut shown = Vec::new();
    let mut last = None;
    for crops in splits {
        let value = measure(crops)?;
        shown.push(show(&value));
        last = Some(value);
    }
    let last = last.ok_or_else(|| anyhow::anyhow!("no photos to measure"))?;
    Ok((shown, last))
}

/// A row of the restoration table: what, NFE, then one cell per split. Said on stderr as it
/// is measured (the whole table takes tens of minutes on a CPU).
fn row(table: &mut Table, what: String, nfe: String, cells: Vec<String>) {
    eprintln!("measured: {what}");
    table.rows.push([vec![what, nfe], cells].concat());
}

/// A PSNR after a restoration and its gain over the damaged input.
fn gain((before, after): (f64, f64)) -> String {
    format!("{after:.2} ({:+.2})", after - before)
}

/// Reconstruction and restoration rows, one result column per split.
fn restoration_table(session: &Session, splits: &[Vec<Planar>], size: usize) -> Result<Table> {
    let model = &session.model;
    let names = ["validation", "test"];
    let counts: Vec<String> = splits
        .iter()
        .zip(names)
        .map(|(s, n)| format!("{n} {}", s.len()))
        .collect();
    let head = [&["measurement", "NFE"][..], &names[..splits.len()]].concat();
    let mut table = Table::new(
        format!(
            "Centre {size}x{size} crops ({} photos). PSNR in dB against the clean crop, in \
             brackets the gain over the damaged photo. JPEG: strength from the file's tables, \
             each pass consistent with the file (passes below σ 0.005 skipped); noise: \
             settings from the noise measured.",
            counts.join(", ")
        ),
        &head,
    );
    for nfe in ROUND_TRIPS {
        let (shown, _) = cells(
            splits,
            |c| Ok(reconstruction(model, c, nfe, 0)?),
            |(p, s)| format!("{p:.2}, SSIM {s:.3}"),
        )?;
        let down = Plan::generation(model.info.ladders, nfe, 80.0)?.nfe();
        let what = "round trip to σ 80 and back".to_string();
        row(&mut table, what, format!("{nfe} + {down}"), shown);
    }
    for quality in JPEG_QUALITIES {
        for passes in JPEG_PASSES {
            let (shown, (_, _, nfe)) = cells(
                splits,
                |c| Ok(jpeg_restoration(model, c, quality, passes)?),
                |(before, after, _)| gain((*before, *after)),
            )?;
            let plural = if passes == 1 { "" } else { "es" };
            let what = format!("JPEG q{quality}, {passes} pass{plural}");
            row(&mut table, what, nfe.to_string(), shown);
        }
    }
    for sigma in NOISE {
        let (shown, (_, _, nfe)) = cells(
            splits,
            |c| Ok(noisy_restoration(model, c, sigma)?),
            |(before, after, _)| gain((*before, *after)),
        )?;
        let what = format!("white noise σ {sigma}");
        row(&mut table, what, nfe.to_string(), shown);
    }
    Ok(table)
}

/// The inpainting table: each kind of hole on each split, the BCM with `p` beside the
/// classical fill.
fn inpainting_table(
    session: &Session,
    splits: &[(&str, Vec<Planar>)],
    p: &InpaintParams,
) -> Result<Table> {
    let model = &session.model;
    let filler = session.filler()?;
    // Who fills the hole: the filler beside the shipped model, or a model trained for holes
    // loaded in its place.
    let fills = filler
        .as_ref()
        .or((model.config.conditioning() > 0).then_some(model));
    let how = match fills {
        Some(f) if !p.needs_loop() => {
            format!(
                "model {}, one evaluation from the classical fill",
                f.info.name
            )
        }
        Some(f) if p.content == MaskedContent::Fill => format!(
            "model {}, levels {} from the fill of model {}",
            model.info.name,
            p.schedule(),
            f.info.name
        ),
        _ => format!("model {}, levels {}", model.info.name, p.schedule()),
    };
    let mut table = Table::new(
        format!(
            "Inpainting, {CROP}x{CROP} centre crops, {how}. In-hole PSNR in dB; colour \
             shift: distance (0-255 scale) between the fill's mean colour and a {RING}-pixel \
             ring around the hole (the last column scores the photo's own content).",
        ),
        &[
            "hole",
            "split (crops)",
            "PSNR BCM",
            "PSNR classical",
            "shift BCM",
            "shift classical",
            "shift photo",
            "NFE",
        ],
    );
    for kind in HoleKind::ALL {
        for (split, crops) in splits {
            let (truth, classical, bcm, nfe) =
                inpaint_eval::score(model, filler.as_ref(), crops, kind, p)?;
            let what = kind.describe().to_string();
            eprintln!("measured: {what} on {split}");
            table.rows.push(vec![
                what,
                format!("{split} ({})", crops.len()),
                format!("{:.2}", bcm.psnr),
                format!("{:.2}", classical.psnr),
                format!("{:.1}", bcm.shift),
                format!("{:.1}", classical.shift),
                format!("{truth:.1}"),
                nfe.to_string(),
            ]);
        }
    }
    Ok(table)
}
