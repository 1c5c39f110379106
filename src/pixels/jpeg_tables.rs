//! What a JPEG file says about how it was quantised: the quantisation table of each colour
//! component, its chroma subsampling and colour model, read from the file's markers (no
//! entropy decoding needed).

use super::error::{PixelError, Result};

/// Natural (row-major) index of the i-th coefficient in the file's zig-zag order.
const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// The JPEG standard's example luminance table (Annex K), which IJG's quality scale scales.
const STD_LUMA: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourModel {
    Grey,
    /// JFIF's YCbCr (almost every colour JPEG).
    YCbCr,
    /// Components coded as R, G, B directly (Adobe transform 0).
    Rgb,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Quantisation step of each coefficient, row-major (v·8 + u).
    pub quant: [u16; 64],
    /// Subsampling: one coded sample covers `step.0` × `step.1` pixels (x, y).
    pub step: (usize, usize),
}

/// The quantisation a JPEG image went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JpegTables {
    /// Size as stored in the file (before any EXIF turn).
    pub width: usize,
    pub height: usize,
    pub model: ColourModel,
    pub components: Vec<Component>,
    /// The EXIF orientation the photo was turned upright with (1: none); the coding grid is
    /// the stored image's.
    pub orientation: u8,
}

fn err(message: impl Into<String>) -> PixelError {
    PixelError::Jpeg(message.into())
}

/// True for data that starts like a JPEG file.
pub fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

struct Frame {
    width: usize,
    height: usize,
    /// (component id, horizontal factor, vertical factor, table id)
    components: Vec<(u8, usize, usize, usize)>,
}

impl JpegTables {
    /// Read the tables from a JPEG file's bytes.
    pub fn read(bytes: &[u8]) -> Result<JpegTables> {
        if !is_jpeg(bytes) {
            return Err(err("not a JPEG file"));
        }
        let mut tables: [Option<[u16; 64]>; 4] = [None; 4];
        let mut frame = None;
        let mut adobe_transform = None;
        let mut pos = 2;
        loop {
            // Markers start with 0xFF, possibly repeated as fill.
            if bytes.get(pos) != Some(&0xFF) {
                return Err(err(format!("expected a marker at byte {pos}")));
            }
            while bytes.get(pos) == Some(&0xFF) {
                pos += 1;
            }
            let Some(&marker) = bytes.get(pos) else {
                return Err(err("file ends inside its header"));
            };
            pos += 1;
            if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
                continue;
            }
            if marker == 0xDA || marker == 0xD9 {
                break; // start of scan (or end): every table the image uses is known.
            }
            let len = match bytes.get(pos..pos + 2) {
                Some(b) => usize::from(u16::from_be_bytes([b[0], b[1]])),
                None => return Err(err("file ends inside its header")),
            };
            let Some(payload) = bytes.get(pos + 2..pos + len).filter(|_| len >= 2) else {
                return Err(err(format!("segment at byte {pos} runs past the file")));
            };
            match marker {
                0xDB => read_quant_tables(payload, &mut tables)?,
                0xC0..=0xCF if ![0xC4, 0xC8, 0xCC].contains(&marker) => {
                    if [0xC3, 0xC7, 0xCB, 0xCF].contains(&marker) {
                        return Err(err("lossless JPEG has no quantisation"));
                    }
                    frame = Some(read_frame(payload)?);
                }
                0xEE if payload.starts_with(b"Adobe") && payload.len() >= 12 => {
                    adobe_transform = Some(payload[11]);
                }
                _ => {}
            }
            pos += len;
        }
        let frame = frame.ok_or_else(|| err("no frame header before the image data"))?;
        let model = match frame.components.len() {
            1 => ColourModel::Grey,
            3 => {
                let ids: Vec<u8> = frame.components.iter().map(|c| c.0).collect();
                if adobe_transform == Some(0) || (adobe_transform.is_none() && ids == b"RGB") {
                    ColourModel::Rgb
                } else {
                    ColourModel::YCbCr
                }
            }
            n => {
                return Err(err(format!(
                    "{n} colour components (CMYK?) are not supported"
                )));
            }
        };
        let hmax = frame.components.iter().map(|c| c.1).max().unwrap_or(1);
        let vmax = frame.components.iter().map(|c| c.2).max().unwrap_or(1);
        let mut components = Vec::with_capacity(frame.components.len());
        for &(id, h, v, t) in &frame.components {
            if hmax % h != 0 || vmax % v != 0 {
                return Err(err(format!("component {id} has an uneven subsampling")));
            }
            let quant = tables
                .get(t)
                .copied()
                .flatten()
                .ok_or_else(|| err(format!("component {id} uses undefined table {t}")))?;
            components.push(Component {
                quant,
                step: (hmax / h, vmax / v),
            });
        }
        Ok(JpegTables {
            width: frame.width,
            height: frame.height,
            model,
            components,
            orientation: 1,
        })
    }

    /// An error unless the tables describe a `width`×`height` upright image.
    pub fn check_size(&self, width: usize, height: usize) -> Result<()> {
        let turned = (5..=8).contains(&self.orientation);
        let (w, h) = if turned {
            (height, width)
        } else {
            (width, height)
        };
        if (self.width, self.height) == (w, h) {
            return Ok(());
        }
        Err(err(format!(
            "the file's tables are for a {}x{} image, this one is {width}x{height}",
            self.width, self.height
        )))
    }

    /// The IJG quality (1-100) whose luminance table is closest (in log ratio) to this file's
    /// first component's: exact for files made by IJG-style encoders, an equivalent for others.
    pub fn quality(&self) -> u8 {
        let Some(first) = self.components.first() else {
            return 100;
        };
        let distance = |q: u8| -> f32 {
            ijg_luma(q)
                .iter()
                .zip(first.quant)
                .map(|(&a, b)| (f32::from(a) / f32::from(b)).ln().abs())
                .sum()
        };
        (1..=100u8)
            .min_by(|&a, &b| distance(a).total_cmp(&distance(b)))
            .unwrap_or(100)
    }
}

/// IJG's luminance table at `quality` (baseline, steps clamped to 1..=255).
fn ijg_luma(quality: u8) -> [u16; 64] {
    let q = u32::from(quality.clamp(1, 100));
    let scale = if q < 50 { 5000 / q } else { 200 - 2 * q };
    STD_LUMA.map(|s| ((u32::from(s) * scale + 50) / 100).clamp(1, 255) as u16)
}

fn read_quant_tables(mut payload: &[u8], tables: &mut [Option<[u16; 64]>; 4]) -> Result<()> {
    while let Some((&pq_tq, rest)) = payload.split_first() {
        let (precision, id) = (pq_tq >> 4, usize::from(pq_tq & 0x0F));
        let size = if precision == 0 { 64 } else { 128 };
        if id > 3 || precision > 1 || rest.len() < size {
            return Err(err("malformed quantisation table"));
        }
        let mut table = [0u16; 64];
        for (i, &natural) in ZIGZAG.iter().enumerate() {
            table[natural] = if precision == 0 {
                u16::from(rest[i])
            } else {
                u16::from_be_bytes([rest[2 * i], rest[2 * i + 1]])
            };
        }
        if table.contains(&0) {
            return Err(err("quantisation table with a zero step"));
        }
        tables[id] = Some(table);
        payload = &rest[size..];
    }
    Ok(())
}

fn read_frame(p: &[u8]) -> Result<Frame> {
    if p.len() < 6 {
        return Err(err("short frame header"));
    }
    if p[0] != 8 {
        return Err(err(format!("{}-bit samples are not supported", p[0])));
    }
    let height = usize::from(u16::from_be_bytes([p[1], p[2]]));
    let width = usize::from(u16::from_be_bytes([p[3], p[4]]));
    let n = usize::from(p[5]);
    let specs = p
        .get(6..6 + 3 * n)
        .ok_or_else(|| err("short frame header"))?;
    let components: Vec<_> = specs
        .chunks_exact(3)
        .map(|c| {
            (
                c[0],
                usize::from(c[1] >> 4),
                usize::from(c[1] & 0x0F),
                usize::from(c[2]),
            )
        })
        .collect();
    if width == 0 || height == 0 || components.iter().any(|c| c.1 == 0 || c.2 == 0) {
        return Err(err("frame header with a zero size or sampling factor"));
    }
    Ok(Frame {
        width,
        height,
        components,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, RgbImage};

    fn encode(quality: u8) -> Vec<u8> {
        let img = RgbImage::from_fn(20, 12, |x, y| {
            image::Rgb([(x * 12) as u8, (y * 20) as u8, 90])
        });
        crate::photo::encode(
            &DynamicImage::ImageRgb8(img),
            crate::photo::OutputFormat::Jpeg,
            None,
            crate::photo::SaveOptions {
                jpeg_quality: quality,
            },
        )
        .unwrap()
    }

    #[test]
    fn reads_size_model_and_tables_of_an_encoded_file() {
        let t = JpegTables::read(&encode(50)).unwrap();
        assert_eq!((t.width, t.height), (20, 12));
        assert_eq!(t.model, ColourModel::YCbCr);
        assert_eq!(t.components.len(), 3);
        // Quality 50 is the standard table itself, unscaled.
        assert_eq!(t.components[0].quant, STD_LUMA);
        assert_eq!(t.components[0].step, (1, 1));
        assert_eq!(t.components[1].quant, t.components[2].quant);
        assert_ne!(t.components[1].quant, STD_LUMA);
    }

    #[test]
    fn quality_estimate_matches_the_encoder_setting() {
        for q in [10u8, 30, 50, 75, 90] {
            assert_eq!(JpegTables::read(&encode(q)).unwrap().quality(), q);
        }
    }

    #[test]
    fn subsampling_and_sixteen_bit_tables_are_read() {
        // SOI, DQT (16-bit table 0 and 8-bit table 1), SOF0 4:2:0, SOS.
        let mut f = vec![0xFF, 0xD8];
        f.extend([0xFF, 0xDB, 0x00, 2 + 129 + 65, 0x10]);
        f.extend((0..64u16).flat_map(|i| (300 + i).to_be_bytes()));
        f.push(0x01);
        f.extend((0..64u8).map(|i| i + 1));
        f.extend([0xFF, 0xC0, 0, 17, 8, 0, 16, 0, 32, 3]);
        f.extend([1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        f.extend([0xFF, 0xDA, 0, 2]);
        let t = JpegTables::read(&f).unwrap();
        assert_eq!((t.width, t.height), (32, 16));
        assert_eq!(t.components[0].step, (1, 1));
        assert_eq!(t.components[1].step, (2, 2));
        assert_eq!(t.components[0].quant[0], 300);
        // Zig-zag index 2 is row 1, column 0.
        assert_eq!(t.components[0].quant[8], 302);
        assert_eq!(t.components[2].quant[1], 2);
    }

    #[test]
    fn broken_files_give_errors() {
        let good = encode(40);
        assert!(JpegTables::read(b"\x89PNG\r\n").is_err());
        assert!(JpegTables::read(&good[..30]).is_err());
        // A frame that names a table no DQT defined.
        let mut f = vec![0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0, 8, 0, 8, 1, 1, 0x11, 2];
        f.extend([0xFF, 0xDA, 0, 2]);
        assert!(JpegTables::read(&f).is_err());
    }
}
