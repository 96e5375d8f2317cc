//! Shared helpers: the reference directory, reference models and array comparison.

use std::path::PathBuf;

use heatmap_explorer::io::npy;
use heatmap_explorer::model::{Arch, Model, ModelSource, Normalize};
use tch::{Device, Tensor};

/// Where `make test` put the reference outputs.
pub fn reference_dir() -> PathBuf {
    let dir = std::env::var_os("HEATMAP_REFERENCE_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/reference"),
        PathBuf::from,
    );
    assert!(
        dir.join(".done").exists() || dir.join("resnet34/meta.json").exists(),
        "reference outputs missing in {}: run `make test` \
         (it generates them with torchvision and Captum)",
        dir.display()
    );
    dir
}

/// The reference folder of one model.
pub fn model_dir(name: &str) -> PathBuf {
    reference_dir().join(name)
}

/// The reference metadata of one model.
pub fn meta(name: &str) -> serde_json::Value {
    let p = model_dir(name).join("meta.json");
    serde_json::from_str(&std::fs::read_to_string(&p).expect("meta.json")).expect("meta json")
}

/// Loads a reference model from its safetensors weights.
pub fn load_model(name: &str) -> Model {
    let m = meta(name);
    let normalize = Normalize::parse(m["normalize"].as_str().expect("normalize")).expect("known");
    let source = ModelSource::Arch {
        arch: Arch::parse(name).expect("arch"),
        weights: model_dir(name).join("weights.safetensors"),
        classes: m["classes"].as_i64(),
        labels: None,
        normalize,
    };
    Model::load(&source, Device::Cpu).expect("reference model loads")
}

/// Reads a reference array as a tensor.
pub fn array(name: &str, file: &str) -> Tensor {
    let (shape, data) = npy::read_f32(&model_dir(name).join(file)).expect("npy");
    let shape: Vec<i64> = shape.iter().map(|&s| s as i64).collect();
    Tensor::from_slice(&data).view(shape.as_slice())
}

/// The targets (predicted classes) the reference used.
pub fn targets(name: &str) -> Vec<i64> {
    meta(name)["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|v| v.as_i64().expect("int"))
        .collect()
}

/// max|a − b| / max|b|.
pub fn rel_err(a: &Tensor, b: &Tensor) -> f64 {
    let num = (a - b).abs().max().double_value(&[]);
    let den = b.abs().max().double_value(&[]);
    if den == 0.0 { num } else { num / den }
}

/// The grayscale images with large flat regions (`tests/reference/flat_images.py`), in the
/// reference's order.
pub const FLAT: [&str; 5] = ["page", "phantom", "blocks", "xray8", "xray16"];

/// The flat-region images as a batch `[5, 3, 256, 256]`, decoded and sized by the project from
/// the same PNG files the reference read.
pub fn flat_images() -> Tensor {
    let dir = reference_dir().join("flat");
    let images: Vec<_> = FLAT
        .iter()
        .map(|n| {
            heatmap_explorer::input::load_image(&dir.join(format!("{n}.png")), [256, 256])
                .expect("flat image")
        })
        .collect();
    heatmap_explorer::input::batch(&images.iter().collect::<Vec<_>>(), 3, Device::Cpu)
        .expect("batch")
}

/// Integers listed under `key` in a model's reference metadata.
pub fn meta_ints(name: &str, key: &str) -> Vec<i64> {
    meta(name)[key]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: {key}"))
        .iter()
        .map(|v| v.as_i64().expect("int"))
        .collect()
}

/// A random squeezenet (seeded) for tests that need any real model quickly.
pub fn small_model(classes: i64, seed: i64) -> Model {
    let source = ModelSource::Random {
        arch: Arch::Squeezenet1_1,
        classes,
        normalize: Normalize::Imagenet,
        seed,
    };
    Model::load(&source, Device::Cpu).expect("random model")
}

/// A fresh empty temporary directory.
pub fn temp_dir(tag: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(&format!("hx-{tag}-")).tempdir().expect("tempdir")
}

/// Writes a random RGB PNG of `size` and returns its path.
pub fn random_png(dir: &std::path::Path, name: &str, size: u32, seed: u64) -> PathBuf {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let img = image::RgbImage::from_fn(size, size, |x, y| {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let n = (s >> 56) as u8;
        image::Rgb([n, ((x * 7 + y) % 256) as u8, ((x + y * 3) % 256) as u8])
    });
    let p = dir.join(name);
    img.save(&p).expect("png");
    p
}
