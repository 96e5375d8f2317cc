//! Deterministic synthetic chest radiographs ("phantoms") in pure Rust: NORMAL and PNEUMONIA
//! images with lesion and lung masks, for training and testing without patient data.
//!
//! Each image is a pure function of `(seed, index, pneumonia)`. The anatomy, posture,
//! exposure, noise and distractors come from sub-streams that do not depend on the class, so
//! `generate(s, i, true)` is `generate(s, i, false)` plus its consolidations.

mod anatomy;
mod distractor;
mod geometry;
mod lesion;
mod noise;
mod parts;
mod rng;
mod write;

use std::path::Path;

use crate::error::{Error, Result};

pub use write::{SplitSummary, Summary, write_dataset, write_dataset_until};

/// Width and height of every phantom in pixels.
pub const SIZE: usize = 256;

/// What [`write_dataset`] writes: how many images, from which seed, into which split folders.
#[derive(Debug, Clone, PartialEq)]
pub struct PhantomOptions {
    /// Total number of images, divided across the splits (train 70 % / val 15 % / test 15 %
    /// when exactly those three are named, otherwise equally).
    pub count: usize,
    /// Master seed; each image's randomness derives from (seed, split name, index) only.
    pub seed: u64,
    /// Split folders to write, e.g. `["train", "val", "test"]`; empty for no split folders.
    pub splits: Vec<String>,
    /// Fraction of PNEUMONIA images in each split, in [0, 1] (default 0.5).
    pub pneumonia_fraction: f32,
}

impl Default for PhantomOptions {
    fn default() -> Self {
        Self {
            count: 1000,
            seed: 0,
            splits: vec!["train".into(), "val".into(), "test".into()],
            pneumonia_fraction: 0.5,
        }
    }
}

/// One generated image in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phantom {
    /// `SIZE · SIZE` grayscale pixels, row-major, bright = dense.
    pub pixels: Vec<u8>,
    /// Lesion mask: 255 inside consolidations, 0 elsewhere (all zero for NORMAL).
    pub mask: Vec<u8>,
    /// Whether the image carries consolidations.
    pub pneumonia: bool,
    /// Whether the image carries a distractor (tilted film, corner marker, tube or line).
    pub distractor: bool,
    /// 255 inside either lung field, 0 elsewhere.
    pub lung_mask: Vec<u8>,
}

impl Phantom {
    /// Writes the image and its lesion mask as 8-bit grayscale PNG files.
    pub fn save(&self, image: &Path, mask: &Path) -> Result<()> {
        write_png(image, &self.pixels)?;
        write_png(mask, &self.mask)
    }
}

/// Encodes `SIZE × SIZE` grayscale `pixels` as PNG at `path`.
pub(crate) fn write_png(path: &Path, pixels: &[u8]) -> Result<()> {
    use image::ImageEncoder as _;
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    if pixels.len() != SIZE * SIZE {
        return Err(Error::Image {
            path: path.to_owned(),
            message: format!("expected {} pixels, got {}", SIZE * SIZE, pixels.len()),
        });
    }
    let mut bytes = Vec::with_capacity(SIZE * SIZE / 2);
    let side = u32::try_from(SIZE).map_err(|_| Error::invalid("phantom side too large"))?;
    PngEncoder::new_with_quality(&mut bytes, CompressionType::Fast, FilterType::Adaptive)
        .write_image(pixels, side, side, image::ExtendedColorType::L8)
        .map_err(|e| Error::Image { path: path.to_owned(), message: e.to_string() })?;
    crate::io::write_atomic(path, &bytes)
}

/// Generates one phantom; a pure function of its inputs.
pub fn generate(seed: u64, index: u64, pneumonia: bool) -> Phantom {
    use rng::{Noise, Rng, mix};
    let key = mix(seed, index);
    let stream = |k: u64| Rng::new(mix(key, k));
    let distractors = distractor::Distractors::sample(&mut stream(1));
    let frame = geometry::Frame::sample(&mut stream(2), distractors.tilted);
    let anatomy = anatomy::Anatomy::sample(&mut stream(3), Noise::new(mix(key, 4)));
    let n = SIZE * SIZE;
    // Each film pixel's body point and anatomy, found once for the lesion draws and the render.
    let body: Vec<Option<([f32; 2], anatomy::Sample)>> = (0..n)
        .map(|i| {
            let (x, y) = (i % SIZE, i / SIZE);
            frame.on_film(x, y).then(|| {
                let p = frame.body_at(x, y);
                (p, anatomy.at(p))
            })
        })
        .collect();
    let lesions = if pneumonia {
        let lung: Vec<[f32; 2]> =
            body.iter().flatten().filter(|(_, s)| s.lung < 0.0).map(|&(p, _)| p).collect();
        lesion::sample_visible(&stream, &lung, &anatomy, &frame)
    } else {
        Vec::new()
    };
    let exposure = noise::Exposure::sample(&mut stream(6));

    let mut density = vec![0.0_f32; n];
    let mut mask = vec![0_u8; n];
    let mut lung_mask = vec![0_u8; n];
    let mut film = vec![true; n];
    for (i, point) in body.iter().enumerate() {
        let Some((p, s)) = point else {
            film[i] = false;
            continue;
        };
        let mut fill = 0.0_f32;
        if s.lung < 0.0 {
            lung_mask[i] = 255;
            for l in &lesions {
                if let Some(o) = l.at(*p) {
                    mask[i] = 255;
                    fill = 1.0 - (1.0 - fill) * (1.0 - o);
                }
            }
        }
        density[i] = s.solid - s.air * (1.0 - fill);
    }
    distractors.paint_tube(&frame, &mut density);
    let mut image: Vec<f32> = density
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let ny = geometry::pixel_to_unit(0, i / SIZE)[1];
            exposure.tone(d, ny)
        })
        .collect();
    distractors.paint_marker(&mut image);
    let blank = |image: &mut [f32]| {
        for (v, &on) in image.iter_mut().zip(&film) {
            if !on {
                *v = 0.0;
            }
        }
    };
    blank(&mut image);
    noise::gaussian_blur(&mut image, exposure.blur);
    exposure.add_noise(&mut stream(7), &mut image);
    blank(&mut image);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "clamped to 0..=255 first; + 0.5 then truncation rounds, as for the shipped data"
    )]
    let pixels = image.iter().map(|v| (v * 255.0 + 0.5).clamp(0.0, 255.0) as u8).collect();
    Phantom { pixels, mask, pneumonia, distractor: distractors.any(), lung_mask }
}

/// Hermite smoothstep from `e0` to `e1` (either order).
fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// `v²`.
fn sq(v: f32) -> f32 {
    v * v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(v: &[u8]) -> usize {
        v.iter().filter(|&&p| p == 255).count()
    }

    #[test]
    fn same_seed_same_image_and_different_seed_differs() {
        for (i, pneumonia) in [(0, false), (1, true), (2, true)] {
            let a = generate(42, i, pneumonia);
            let b = generate(42, i, pneumonia);
            assert_eq!(a, b);
            let c = generate(43, i, pneumonia);
            assert_ne!(a.pixels, c.pixels);
            if pneumonia {
                assert_ne!(a.mask, c.mask);
            }
        }
        assert_ne!(generate(42, 0, false).pixels, generate(42, 1, false).pixels);
    }

    #[test]
    fn pneumonia_masks_lie_inside_the_lungs() {
        for i in 0..50 {
            let p = generate(7, i, true);
            assert!(p.pneumonia);
            assert_eq!(
                (p.pixels.len(), p.mask.len(), p.lung_mask.len()),
                (SIZE * SIZE, SIZE * SIZE, SIZE * SIZE)
            );
            assert!(
                count(&p.mask) >= lesion::MIN_PIXELS,
                "image {i}: lesions cover only {} pixels",
                count(&p.mask)
            );
            for (m, l) in p.mask.iter().zip(&p.lung_mask) {
                assert!(
                    *m == 0 || (*m == 255 && *l == 255),
                    "image {i}: lesion pixel outside the lungs"
                );
            }
        }
    }

    #[test]
    fn normal_masks_are_empty_and_lungs_are_plausible() {
        for i in 0..20 {
            let p = generate(9, i, false);
            assert!(!p.pneumonia);
            assert!(p.mask.iter().all(|&m| m == 0));
            let lungs = count(&p.lung_mask);
            assert!(
                lungs > SIZE * SIZE / 10 && lungs < SIZE * SIZE / 2,
                "image {i}: lung area {lungs}"
            );
            // Lungs are darker than the mediastinum and brighter than the air outside.
            let mean = |sel: &dyn Fn(usize) -> bool| {
                let v: Vec<f64> =
                    (0..SIZE * SIZE).filter(|&k| sel(k)).map(|k| f64::from(p.pixels[k])).collect();
                v.iter().sum::<f64>() / crate::convert::to_f64(v.len().max(1))
            };
            let lung = mean(&|k| p.lung_mask[k] == 255);
            let centre = mean(&|k| {
                (k % SIZE).abs_diff(SIZE / 2) < 6 && (k / SIZE).abs_diff(SIZE * 5 / 8) < 20
            });
            assert!(lung + 20.0 < centre, "image {i}: lungs {lung:.0} vs mediastinum {centre:.0}");
        }
    }

    #[test]
    fn classes_differ_only_around_the_lesions() {
        for i in 0..10 {
            let (n, p) = (generate(5, i, false), generate(5, i, true));
            assert_eq!(n.lung_mask, p.lung_mask);
            // Consolidations are brighter than the aerated lung they replace.
            let inside: Vec<usize> = (0..SIZE * SIZE).filter(|&k| p.mask[k] == 255).collect();
            let sum = |img: &Phantom| inside.iter().map(|&k| f64::from(img.pixels[k])).sum::<f64>();
            assert!(
                sum(&p) > sum(&n) + crate::convert::to_f64(inside.len()),
                "image {i}: lesions are not brighter"
            );
            assert_eq!(n.distractor, p.distractor);
            for y in 0..SIZE {
                for x in 0..SIZE {
                    let k = y * SIZE + x;
                    if n.pixels[k] != p.pixels[k] {
                        // Within the blur radius of a mask pixel.
                        let near = (y.saturating_sub(4)..(y + 5).min(SIZE)).any(|yy| {
                            (x.saturating_sub(4)..(x + 5).min(SIZE))
                                .any(|xx| p.mask[yy * SIZE + xx] == 255)
                        });
                        assert!(near, "image {i}: pixel ({x}, {y}) differs far from any lesion");
                    }
                }
            }
        }
    }

    #[test]
    fn distractors_appear_in_both_classes_at_about_the_set_rate() {
        let n = 400;
        let normal = (0..n).filter(|&i| generate(3, i, false).distractor).count();
        // The flag does not depend on the class.
        assert!(
            (0..40).all(|i| generate(3, i, false).distractor == generate(3, i, true).distractor)
        );
        assert!((30..=95).contains(&normal), "{normal} of {n}");
    }

    #[test]
    fn write_dataset_layout_and_counts() {
        let dir = std::env::temp_dir().join(format!(
            "phantom-test-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let opts = PhantomOptions {
            count: 20,
            seed: 1,
            splits: vec!["train".into(), "val".into(), "test".into()],
            pneumonia_fraction: 0.5,
        };
        let summary = write_dataset(&dir, &opts).expect("write");
        assert_eq!(summary.total(), 20);
        let expect = [("train", 14), ("val", 3), ("test", 3)];
        for (s, (name, n)) in summary.splits.iter().zip(expect) {
            assert_eq!((s.name.as_str(), s.normal + s.pneumonia), (name, n));
            let files = |d: std::path::PathBuf| {
                std::fs::read_dir(d).map(|r| r.count()).unwrap_or(usize::MAX)
            };
            assert_eq!(files(dir.join(name).join("NORMAL")), s.normal);
            assert_eq!(files(dir.join(name).join("PNEUMONIA")), s.pneumonia);
            assert_eq!(files(dir.join("masks").join(name).join("NORMAL")), s.normal);
            assert_eq!(files(dir.join("masks").join(name).join("PNEUMONIA")), s.pneumonia);
            assert_eq!(files(dir.join(name)), 2, "only class folders inside a split");
        }
        assert_eq!((summary.splits[0].normal, summary.splits[0].pneumonia), (7, 7));
        // File names, decodability, and agreement with `generate`.
        // Of val's three images, two are PNEUMONIA: indices 1 and 2.
        let img =
            image::open(dir.join("val/PNEUMONIA/phantom_val_00001.png")).expect("open").to_luma8();
        let mask = image::open(dir.join("masks/val/PNEUMONIA/phantom_val_00001.png"))
            .expect("open")
            .to_luma8();
        let key = rng::mix(1, rng::hash_str("val"));
        let p = generate(key, 1, true);
        assert_eq!((img.width() as usize, img.height() as usize), (SIZE, SIZE));
        assert_eq!(img.into_raw(), p.pixels);
        assert_eq!(mask.into_raw(), p.mask);
        // Writing again gives identical bytes.
        let first = std::fs::read(dir.join("train/NORMAL/phantom_train_00000.png")).expect("read");
        write_dataset(&dir, &opts).expect("rewrite");
        assert_eq!(
            std::fs::read(dir.join("train/NORMAL/phantom_train_00000.png")).expect("read"),
            first
        );
        let _ = std::fs::remove_dir_all(&dir);

        // Without splits.
        let flat = dir.with_extension("flat");
        let _ = std::fs::remove_dir_all(&flat);
        let s = write_dataset(
            &flat,
            &PhantomOptions { count: 5, seed: 2, splits: vec![], pneumonia_fraction: 0.4 },
        )
        .expect("flat");
        assert_eq!((s.splits.len(), s.splits[0].normal, s.splits[0].pneumonia), (1, 3, 2));
        for class in ["NORMAL", "PNEUMONIA"] {
            let n = std::fs::read_dir(flat.join(class)).expect("class dir").count();
            assert_eq!(
                std::fs::read_dir(flat.join("masks").join(class)).expect("mask dir").count(),
                n
            );
        }
        assert!(
            flat.join("NORMAL/phantom_00000.png").exists()
                || flat.join("PNEUMONIA/phantom_00000.png").exists()
        );
        let _ = std::fs::remove_dir_all(&flat);
    }

    #[test]
    fn bad_options_are_rejected() {
        let dir = std::env::temp_dir().join(format!("phantom-bad-{}", std::process::id()));
        for opts in [
            PhantomOptions { pneumonia_fraction: 1.5, ..PhantomOptions::default() },
            PhantomOptions { pneumonia_fraction: f32::NAN, ..PhantomOptions::default() },
            PhantomOptions { splits: vec!["a/b".into()], ..PhantomOptions::default() },
            PhantomOptions { splits: vec!["masks".into()], ..PhantomOptions::default() },
            PhantomOptions { splits: vec!["x".into(), "x".into()], ..PhantomOptions::default() },
        ] {
            assert!(matches!(write_dataset(&dir, &opts), Err(Error::Invalid(_))), "{opts:?}");
        }
        assert!(!dir.exists());
    }
}
