//! Dataset-wide AX: every row, the correct/wrong split, statistics, shards, resume.

use std::path::Path;

use heatmap_explorer::attribution::{self, Method};
use heatmap_explorer::dataset::{self, RunOptions, Shard, rows, stats};
use heatmap_explorer::io::image::Image;

use crate::util::{random_png, small_model, temp_dir};

fn make_dataset(root: &Path, per_class: usize) {
    for (c, class) in ["NORMAL", "PNEUMONIA"].iter().enumerate() {
        let d = root.join(class);
        std::fs::create_dir_all(&d).expect("mkdir");
        for i in 0..per_class {
            random_png(&d, &format!("img_{i:03}.png"), 80 + 8 * i as u32, (c * 100 + i) as u64);
        }
    }
}

fn opts(out: &Path, methods: Vec<Method>, batch: usize, shard: Option<Shard>) -> RunOptions {
    RunOptions { methods, batch, shard, out: out.to_owned() }
}

#[test]
fn end_to_end_rows_split_and_statistics() {
    let dir = temp_dir("ds");
    make_dataset(&dir.path().join("data"), 4);
    let model = small_model(2, 21);
    let out = dir.path().join("ax.csv");
    let summary = dataset::run(&model, &dir.path().join("data"), &opts(&out, Method::ALL.to_vec(), 3, None), &mut |_| {}, &|| false).expect("run");
    let rows = rows::read(&out).expect("csv");
    assert_eq!(rows.len(), 8 * 6 * 2, "one row per image × method × variant");
    let text = std::fs::read_to_string(&out).expect("read");
    assert!(text.starts_with("image,label,predicted,correct,method,variant,co"));
    for r in &rows {
        assert_eq!(r.correct, r.predicted == r.label);
        assert_eq!(r.label, i64::from(r.image.starts_with("PNEUMONIA")));
    }
    // Predictions agree with the model run on each image alone.
    for class in ["NORMAL", "PNEUMONIA"] {
        let p = dir.path().join("data").join(class).join("img_002.png");
        let img = Image::load(&p, [256, 256]).expect("img");
        let pred = attribution::predict(&model, &img.to_tensor(tch::Device::Cpu)).expect("predict")[0];
        let row = rows.iter().find(|r| r.image == format!("{class}/img_002.png")).expect("row");
        assert_eq!(row.predicted, pred);
    }
    // Compared as JSON, where an empty group's NaN statistics are null on both sides.
    let json_of = |s: &stats::Summary| serde_json::to_value(s).expect("json");
    assert_eq!(json_of(&stats::summarise(&rows)), json_of(&summary), "the summary is the statistics of the CSV");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dataset::summary_path(&out)).expect("json")).expect("parse");
    assert_eq!(json["images"].as_u64(), Some(8));
    assert_eq!(json["groups"].as_array().map(Vec::len), Some(12));
    let g = &summary.groups[0];
    assert_eq!(g.correct.count + g.wrong.count, 8);
    if g.correct.count > 0 && g.wrong.count > 0 {
        assert!((g.gap - (g.correct.median - g.wrong.median)).abs() < 1e-12);
        assert!((0.0..=1.0).contains(&g.auroc));
    }
}

#[test]
fn three_shards_merge_to_the_unsharded_csv() {
    let dir = temp_dir("shard");
    let data = dir.path().join("data");
    make_dataset(&data, 5);
    let model = small_model(2, 22);
    let methods = vec![Method::Saliency, Method::GuidedBackprop];
    let full = dir.path().join("full.csv");
    dataset::run(&model, &data, &opts(&full, methods.clone(), 2, None), &mut |_| {}, &|| false).expect("full");
    let mut parts = Vec::new();
    for i in 0..3 {
        let p = dir.path().join(format!("part{i}.csv"));
        dataset::run(&model, &data, &opts(&p, methods.clone(), 2, Some(Shard { index: i, count: 3 })), &mut |_| {}, &|| false).expect("shard");
        parts.push(p);
    }
    let counts: Vec<usize> = parts.iter().map(|p| rows::read(p).expect("read").len()).collect();
    assert_eq!(counts.iter().sum::<usize>(), 10 * 4);
    assert!(counts.iter().all(|&c| c > 0));
    let merged = dir.path().join("merged.csv");
    dataset::merge_cli(&merged, &parts).expect("merge");
    let sorted_full = dir.path().join("full_sorted.csv");
    dataset::merge_cli(&sorted_full, std::slice::from_ref(&full)).expect("sort");
    assert_eq!(std::fs::read(&merged).expect("m"), std::fs::read(&sorted_full).expect("f"));
    assert!(Shard::parse("3/3").is_err() && Shard::parse("x").is_err());
}

#[test]
fn interrupted_run_resumes_without_duplicates() {
    let dir = temp_dir("resume");
    let data = dir.path().join("data");
    make_dataset(&data, 3);
    let model = small_model(2, 23);
    let methods = vec![Method::InputXGradient];
    let full = dir.path().join("full.csv");
    dataset::run(&model, &data, &opts(&full, methods.clone(), 2, None), &mut |_| {}, &|| false).expect("full");

    let out = dir.path().join("resumed.csv");
    let done = std::cell::Cell::new(0);
    let err = dataset::run(&model, &data, &opts(&out, methods.clone(), 2, None), &mut |_| done.set(done.get() + 1), &|| done.get() >= 1);
    assert!(err.is_err(), "cancelled after one batch");
    assert_eq!(rows::read(&out).expect("partial").len(), 2 * 2);
    // A row cut off mid-write, as a kill would leave it.
    let mut text = std::fs::read_to_string(&out).expect("read");
    text.push_str("PNEUMONIA/img_000.png,1,");
    std::fs::write(&out, text).expect("write");
    dataset::run(&model, &data, &opts(&out, methods, 2, None), &mut |_| {}, &|| false).expect("resume");
    let a = rows::read(&out).expect("a");
    assert_eq!(a.len(), 6 * 2);
    let mut keys: Vec<_> = a.iter().map(rows::Row::key).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), a.len(), "no duplicate rows");
    assert_eq!(a, rows::read(&full).expect("full rows"));
}

#[test]
fn class_folders_must_fit_the_model() {
    let dir = temp_dir("classes");
    for c in ["a", "b", "c"] {
        std::fs::create_dir_all(dir.path().join(c)).expect("mkdir");
        random_png(&dir.path().join(c), "x.png", 64, 1);
    }
    let model = small_model(2, 1);
    let err = dataset::scan(dir.path(), &model.info().labels).expect_err("3 folders, 2 classes");
    assert!(err.to_string().contains("3 class folders"), "{err}");
    let labels = vec!["c".to_owned(), "a".to_owned(), "b".to_owned()];
    let items = dataset::scan(dir.path(), &labels).expect("scan");
    assert_eq!(items.iter().map(|i| i.label).collect::<Vec<_>>(), vec![1, 2, 0], "matched by label name");
}
