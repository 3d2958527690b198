//! Album covers of the demo library: real baseline JPEGs, encoded when the library is built.
//!
//! A `2003` artwork request answers a JPEG (`prodjlink.md` 7.3 `4002`); CDJs show 80 x 80
//! covers, and a request with a third argument of 1 asks for the 240 x 240 "hi-res" one
//! (same table). Each cover here is a coloured square with concentric rings and a diagonal
//! stripe, its hue taken from the artwork id, so covers differ and a viewer can tell them
//! apart. Encoding is done by the `jpeg-encoder` crate (no hand-written JPEG).

/// Side of the normal cover, as rekordbox exports it for players.
pub const SMALL_SIDE: u16 = 80;
/// Side of the hi-res cover (`2003` with argument 1).
pub const LARGE_SIDE: u16 = 240;

/// One cover in both sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artwork {
    pub id: u32,
    /// JPEG, [`SMALL_SIDE`] square.
    pub small: Vec<u8>,
    /// JPEG, [`LARGE_SIDE`] square.
    pub large: Vec<u8>,
}

impl Artwork {
    /// The cover for artwork `id`, the same bytes every time.
    pub fn generate(id: u32) -> Artwork {
        Artwork {
            id,
            small: jpeg(id, SMALL_SIDE),
            large: jpeg(id, LARGE_SIDE),
        }
    }

    /// The JPEG for a request: hi-res when asked for.
    pub fn jpeg(&self, hi_res: bool) -> &[u8] {
        if hi_res {
            &self.large
        } else {
            &self.small
        }
    }
}

/// RGB of a hue (0-359) at full saturation and the given value (0-255).
fn hue_rgb(hue: u32, value: u8) -> [u8; 3] {
    let v = value as u32;
    let h = hue % 360;
    let x = v * (60 - (h % 120).abs_diff(60)) / 60;
    let (r, g, b) = match h / 60 {
        0 => (v, x, 0),
        1 => (x, v, 0),
        2 => (0, v, x),
        3 => (0, x, v),
        4 => (x, 0, v),
        _ => (v, 0, x),
    };
    [r as u8, g as u8, b as u8]
}

fn jpeg(id: u32, side: u16) -> Vec<u8> {
    let n = side as u32;
    // Golden-angle steps spread neighbouring ids round the colour wheel.
    let hue = id.wrapping_mul(137) % 360;
    let ring = n / 8;
    let mut rgb = Vec::with_capacity((n * n * 3) as usize);
    for y in 0..n {
        for x in 0..n {
            let (dx, dy) = (x.abs_diff(n / 2), y.abs_diff(n / 2));
            let r = ((dx * dx + dy * dy) as f64).sqrt() as u32;
            let stripe = (x + y) / ring.max(1) % 5 == 0;
            let px = if stripe {
                [240, 240, 240]
            } else if (r / ring.max(1)) % 2 == 0 {
                hue_rgb(hue, 230)
            } else {
                hue_rgb(hue + 180, 90)
            };
            rgb.extend_from_slice(&px);
        }
    }
    let mut out = Vec::new();
    // Encoding a well-formed RGB buffer into a Vec cannot fail: the only errors are a short
    // buffer, a zero size and I/O, none of which apply.
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(&rgb, side, side, jpeg_encoder::ColorType::Rgb)
        .expect("encoding a complete RGB buffer into memory");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbserver::blobs::image_info;

    #[test]
    fn covers_are_real_jpegs_of_both_sizes() {
        let a = Artwork::generate(3);
        for (bytes, side) in [(&a.small, SMALL_SIDE), (&a.large, LARGE_SIDE)] {
            let info = image_info(bytes);
            assert_eq!(info.format, "jpeg");
            assert_eq!(
                (info.width, info.height),
                (Some(side as u32), Some(side as u32))
            );
            assert!(bytes.ends_with(&[0xff, 0xd9]), "ends with EOI");
        }
        assert!(
            a.small.len() < 8 * 1024,
            "small enough for one dbserver answer"
        );
        assert_eq!(a, Artwork::generate(3));
        assert_ne!(a.small, Artwork::generate(4).small);
        assert_eq!(a.jpeg(true), &a.large[..]);
    }

    #[test]
    fn hues_cover_the_wheel() {
        assert_eq!(hue_rgb(0, 255), [255, 0, 0]);
        assert_eq!(hue_rgb(120, 255), [0, 255, 0]);
        assert_eq!(hue_rgb(240, 255), [0, 0, 255]);
        assert_eq!(hue_rgb(60, 200), [200, 200, 0]);
    }
}
