//! JPEG consistency: every DCT coefficient of a JPEG block is known to lie within half a
//! quantisation step of the value the file stores. A restoration that strays outside that
//! interval contradicts the file, so it is pulled back to the nearest image inside it (a
//! projection, coefficient by coefficient). This keeps the detail the file proves is there
//! and leaves the network free only where the file is silent.

use std::borrow::Cow;

use crate::engine::error::{EngineError, Result};
use crate::engine::orientation::{to_stored, to_upright};
use crate::engine::planar::Planar;

use super::dct::Dct8;
use super::tables::{ColourModel, Component, JpegTables};

/// One colour component as an 8-bit-scale plane.
#[derive(Clone)]
struct Plane {
    width: usize,
    height: usize,
    data: Vec<f32>,
}

impl Plane {
    /// Mean over each `sx` × `sy` cell (the encoder's chroma subsampling); the plane itself,
    /// uncopied, when nothing is subsampled.
    fn box_down(&self, (sx, sy): (usize, usize)) -> Cow<'_, Plane> {
        if (sx, sy) == (1, 1) {
            return Cow::Borrowed(self);
        }
        let (w, h) = (self.width.div_ceil(sx), self.height.div_ceil(sy));
        let mut data = vec![0.0f32; w * h];
        for (j, out) in data.iter_mut().enumerate() {
            let (cy, cx) = (j / w, j % w);
            let (mut sum, mut n) = (0.0, 0.0);
            for y in cy * sy..((cy + 1) * sy).min(self.height) {
                for x in cx * sx..((cx + 1) * sx).min(self.width) {
                    sum += self.data[y * self.width + x];
                    n += 1.0;
                }
            }
            *out = sum / n;
        }
        Cow::Owned(Plane {
            width: w,
            height: h,
            data,
        })
    }

    /// The level-shifted 8×8 block at block coordinates (by, bx); it must lie inside.
    fn block(&self, by: usize, bx: usize) -> [f32; 64] {
        std::array::from_fn(|i| self.data[(by * 8 + i / 8) * self.width + bx * 8 + i % 8] - 128.0)
    }
}

/// Move `restored` (full resolution) so that its coded version fits `decoded`'s coefficients.
/// Blocks cut by the image edge are left alone: the encoder coded padding there that the
/// decoded image no longer shows, so their coefficients cannot be recovered.
fn project_plane(restored: &mut Plane, decoded: &Plane, c: &Component, dct: &Dct8) {
    let (sx, sy) = c.step;
    let (w, delta) = block_changes(restored, decoded, c, dct);
    for y in 0..restored.height {
        for x in 0..restored.width {
            restored.data[y * restored.width + x] += delta[(y / sy) * w + x / sx];
        }
    }
}

/// The change each whole coded block of `restored` needs, on the coded (subsampled) grid:
/// (its width, the changes).
fn block_changes(
    restored: &Plane,
    decoded: &Plane,
    c: &Component,
    dct: &Dct8,
) -> (usize, Vec<f32>) {
    let (small_r, small_d) = (restored.box_down(c.step), decoded.box_down(c.step));
    let (w, h) = (small_r.width, small_r.height);
    let (sx, sy) = c.step;
    let mut delta = vec![0.0f32; w * h];
    for by in 0..restored.height / (8 * sy) {
        for bx in 0..restored.width / (8 * sx) {
            let fr = dct.forward(&small_r.block(by, bx));
            let fd = dct.forward(&small_d.block(by, bx));
            let mut change = [0.0f32; 64];
            for i in 0..64 {
                let q = f32::from(c.quant[i]);
                let k = (fd[i] / q).round();
                change[i] = fr[i].clamp((k - 0.5) * q, (k + 0.5) * q) - fr[i];
            }
            if change.iter().all(|&v| v == 0.0) {
                continue;
            }
            let d = dct.inverse(&change);
            for (i, v) in d.into_iter().enumerate() {
                delta[(by * 8 + i / 8) * w + bx * 8 + i % 8] = v;
            }
        }
    }
    (w, delta)
}

/// The image's components in the file's colour model, on the 0-255 scale.
fn components(img: &Planar, model: ColourModel) -> Vec<Plane> {
    let n = img.pixels();
    let rgb = |c: usize, i: usize| (img.data[c * n + i] + 1.0) * 127.5;
    let weights: &[[f32; 4]] = match model {
        ColourModel::Rgb => &[
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
        ],
        ColourModel::Grey => &[[0.299, 0.587, 0.114, 0.0]],
        ColourModel::YCbCr => &[
            [0.299, 0.587, 0.114, 0.0],
            [-0.168_736, -0.331_264, 0.5, 128.0],
            [0.5, -0.418_688, -0.081_312, 128.0],
        ],
    };
    weights
        .iter()
        .map(|w| Plane {
            width: img.width,
            height: img.height,
            data: (0..n)
                .map(|i| w[0] * rgb(0, i) + w[1] * rgb(1, i) + w[2] * rgb(2, i) + w[3])
                .collect(),
        })
        .collect()
}

/// RGB in [-1, 1] from components in the file's colour model.
fn to_rgb(planes: &[Plane], model: ColourModel, like: &Planar) -> Planar {
    let n = like.pixels();
    let mut out = Planar::zeros(3, like.height, like.width);
    for i in 0..n {
        let px = match model {
            ColourModel::Rgb => [planes[0].data[i], planes[1].data[i], planes[2].data[i]],
            ColourModel::Grey => [planes[0].data[i]; 3],
            ColourModel::YCbCr => {
                let (y, cb, cr) = (
                    planes[0].data[i],
                    planes[1].data[i] - 128.0,
                    planes[2].data[i] - 128.0,
                );
                [
                    y + 1.402 * cr,
                    y - 0.344_136 * cb - 0.714_136 * cr,
                    y + 1.772 * cb,
                ]
            }
        };
        for (c, v) in px.into_iter().enumerate() {
            out.data[c * n + i] = (v / 127.5 - 1.0).clamp(-1.0, 1.0);
        }
    }
    out
}

/// The image closest to `restored`, coefficient by coefficient, whose JPEG coding with
/// `tables` gives the same data as `decoded` (the file's own decoding, as loaded). Chroma
/// coded at reduced resolution is compared after the same reduction and corrected evenly
/// over each cell.
pub fn jpeg_consistent(restored: &Planar, decoded: &Planar, tables: &JpegTables) -> Result<Planar> {
    if !restored.same_shape(decoded) || restored.channels != 3 {
        return Err(EngineError::SizeMismatch(
            "restored and decoded images differ in shape".into(),
        ));
    }
    tables.check_size(decoded.width, decoded.height)?;
    // The file's 8×8 grid is the stored image's: project there and turn the result upright.
    let o = tables.orientation;
    let (restored, decoded) = (to_stored(restored, o), to_stored(decoded, o));
    let mut planes = components(&restored, tables.model);
    let reference = components(&decoded, tables.model);
    let dct = Dct8::default();
    std::thread::scope(|s| {
        for ((plane, dec), comp) in planes.iter_mut().zip(&reference).zip(&tables.components) {
            let dct = &dct;
            s.spawn(move || project_plane(plane, dec, comp, dct));
        }
    });
    Ok(to_upright(&to_rgb(&planes, tables.model, &restored), o).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::jpeg::tables::JpegTables;
    use image::{DynamicImage, RgbImage};

    fn photo(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let t = (x as f32 * 0.4).sin() * 60.0 + (y as f32 * 0.23).cos() * 50.0;
            let edge = if x + y > w { 70.0 } else { 0.0 };
            image::Rgb([
                (120.0 + t + edge) as u8,
                (100.0 - t * 0.5 + edge) as u8,
                (90.0 + t * 0.3) as u8,
            ])
        })
    }

    fn planar(img: &RgbImage) -> Planar {
        crate::photo::planar_from_image(&DynamicImage::ImageRgb8(img.clone()))
    }

    fn jpeg(img: &RgbImage, quality: u8) -> (Planar, JpegTables) {
        let bytes = crate::photo::encode(
            &DynamicImage::ImageRgb8(img.clone()),
            crate::photo::OutputFormat::Jpeg,
            None,
            crate::photo::SaveOptions {
                jpeg_quality: quality,
            },
        )
        .unwrap();
        let decoded = crate::photo::decode(&bytes, std::path::Path::new("t.jpg")).unwrap();
        (
            planar(&decoded.to_rgb8()),
            JpegTables::read(&bytes).unwrap(),
        )
    }

    fn mse(a: &Planar, b: &Planar) -> f32 {
        a.data
            .iter()
            .zip(&b.data)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f32>()
            / a.data.len() as f32
    }

    #[test]
    fn the_decoded_image_and_the_original_are_already_consistent() {
        let img = photo(27, 19);
        let (decoded, tables) = jpeg(&img, 20);
        for candidate in [decoded.clone(), planar(&img)] {
            let out = jpeg_consistent(&candidate, &decoded, &tables).unwrap();
            // Only 8-bit rounding and clamping separate them from the constraint set.
            assert!(mse(&out, &candidate) < 1e-5, "{}", mse(&out, &candidate));
        }
    }

    #[test]
    fn a_flat_guess_is_pulled_towards_the_original() {
        let img = photo(32, 24);
        let original = planar(&img);
        let (decoded, tables) = jpeg(&img, 30);
        let flat = Planar {
            data: vec![0.0; original.data.len()],
            ..original.clone()
        };
        let out = jpeg_consistent(&flat, &decoded, &tables).unwrap();
        assert!(mse(&out, &original) < 0.25 * mse(&flat, &original));
        // Projecting twice changes nothing more.
        let again = jpeg_consistent(&out, &decoded, &tables).unwrap();
        assert!(mse(&again, &out) < 1e-6);
    }

    #[test]
    fn subsampled_chroma_is_corrected_evenly_per_cell() {
        // 17×16 pixels: one full 16×16 block of 2×2 cells; the 17th column is a cut block.
        let mut restored = Plane {
            width: 17,
            height: 16,
            data: vec![100.0; 17 * 16],
        };
        let decoded = Plane {
            width: 17,
            height: 16,
            data: vec![160.0; 17 * 16],
        };
        let comp = Component {
            quant: [4; 64],
            step: (2, 2),
        };
        project_plane(&mut restored, &decoded, &comp, &Dct8::default());
        // The DC term may sit up to half a step (0.5 in sample units) off the decoded mean.
        let inside: Vec<f32> = (0..16 * 17)
            .filter(|i| i % 17 < 16)
            .map(|i| restored.data[i])
            .collect();
        assert!(inside.iter().all(|&v| (v - 160.0).abs() <= 0.5 + 1e-3));
        assert!(inside.iter().all(|&v| (v - inside[0]).abs() < 1e-4));
        assert!((0..16).all(|y| restored.data[y * 17 + 16] == 100.0));
    }

    #[test]
    fn a_grey_jpeg_stays_grey_and_moves_towards_its_original() {
        let grey = image::GrayImage::from_fn(32, 24, |x, y| image::Luma([(x * 7 + y * 3) as u8]));
        let bytes = crate::photo::encode(
            &DynamicImage::ImageLuma8(grey.clone()),
            crate::photo::OutputFormat::Jpeg,
            None,
            crate::photo::SaveOptions { jpeg_quality: 20 },
        )
        .unwrap();
        let tables = JpegTables::read(&bytes).unwrap();
        assert_eq!(tables.model, crate::engine::jpeg::ColourModel::Grey);
        let decoded = crate::photo::planar_from_image(
            &crate::photo::decode(&bytes, std::path::Path::new("g.jpg")).unwrap(),
        );
        let original = crate::photo::planar_from_image(&DynamicImage::ImageLuma8(grey));
        // A tinted, flat guess: the projection keeps it grey and brings back the ramp.
        let mut guess = Planar::zeros(3, 24, 32);
        guess.data[..24 * 32].fill(0.3);
        let out = jpeg_consistent(&guess, &decoded, &tables).unwrap();
        let n = 24 * 32;
        assert!(
            (0..n).all(|i| out.data[i] == out.data[n + i] && out.data[i] == out.data[2 * n + i])
        );
        assert!(mse(&out, &original) < 0.25 * mse(&guess, &original));
    }

    #[test]
    fn tables_for_another_size_are_refused() {
        let (decoded, tables) = jpeg(&photo(16, 16), 50);
        let other = decoded.crop(0, 0, 8, 16);
        assert!(matches!(
            jpeg_consistent(&other, &other, &tables),
            Err(EngineError::Jpeg(_))
        ));
    }
}
