//! Dataset-wide AX: every row, the correct/wrong split, statistics, shards, resume.

use std::path::Path;

use heatmap_explorer::attribution::{self, Method};
use heatmap_explorer::dataset::{self, RunOptions, Shard, rows, stats};

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
    RunOptions {
        methods,
        batch,
        shard,
        out: out.to_owned(),
        gax_steps: 0,
        load: Default::default(),
        overwrite: false,
        target: None,
        labels_csv: None,
    }
}

#[test]
fn end_to_end_rows_split_and_statistics() {
    let dir = temp_dir("ds");
    make_dataset(&dir.path().join("data"), 4);
    let model = small_model(2, 21);
    let out = dir.path().join("ax.csv");
    let summary = dataset::run(
        &model,
        &dir.path().join("data"),
        &opts(&out, Method::ALL.to_vec(), 3, None),
        &mut |_| {},
        &|| false,
    )
    .expect("run");
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
        let img = heatmap_explorer::input::load_image(&p, [256, 256]).expect("img");
        let pred = attribution::predict(
            &model,
            &heatmap_explorer::input::to_tensor(&img, 3, tch::Device::Cpu).expect("tensor"),
        )
        .expect("predict")[0];
        let row = rows.iter().find(|r| r.image == format!("{class}/img_002.png")).expect("row");
        assert_eq!(row.predicted, pred);
    }
    // Compared as JSON, where an empty group's NaN statistics are null on both sides.
    let json_of = |s: &stats::Summary| serde_json::to_value(s).expect("json");
    assert_eq!(
        json_of(&stats::summarise(&rows)),
        json_of(&summary),
        "the summary is the statistics of the CSV"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dataset::summary_path(&out)).expect("json"))
            .expect("parse");
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
    dataset::run(&model, &data, &opts(&full, methods.clone(), 2, None), &mut |_| {}, &|| false)
        .expect("full");
    let mut parts = Vec::new();
    for i in 0..3 {
        let p = dir.path().join(format!("part{i}.csv"));
        dataset::run(
            &model,
            &data,
            &opts(&p, methods.clone(), 2, Some(Shard { index: i, count: 3 })),
            &mut |_| {},
            &|| false,
        )
        .expect("shard");
        parts.push(p);
    }
    let counts: Vec<usize> = parts.iter().map(|p| rows::read(p).expect("read").len()).collect();
    assert_eq!(counts.iter().sum::<usize>(), 10 * 4);
    assert!(counts.iter().all(|&c| c > 0));
    let merged = dir.path().join("merged.csv");
    dataset::merge_files(&merged, &parts).expect("merge");
    let sorted_full = dir.path().join("full_sorted.csv");
    dataset::merge_files(&sorted_full, std::slice::from_ref(&full)).expect("sort");
    assert_eq!(std::fs::read(&merged).expect("m"), std::fs::read(&sorted_full).expect("f"));
    assert_eq!(
        std::fs::read(&merged).expect("m"),
        std::fs::read(&full).expect("f"),
        "a run writes its rows in merge's order"
    );
    assert!(Shard::parse("3/3").is_err() && Shard::parse("x").is_err());
}

#[test]
fn batch_cut_off_mid_write_resumes_to_the_same_bytes() {
    let dir = temp_dir("cutoff");
    let data = dir.path().join("data");
    make_dataset(&data, 4);
    let model = small_model(2, 24);
    // Listed in reverse, so the rows are sorted inside each batch.
    let methods = vec![Method::GuidedBackprop, Method::Saliency];
    let full = dir.path().join("full.csv");
    dataset::run(&model, &data, &opts(&full, methods.clone(), 4, None), &mut |_| {}, &|| false)
        .expect("full");
    let text = std::fs::read_to_string(&full).expect("read");
    // A kill during the second batch's append: its first image complete, the next one cut.
    let lines: Vec<&str> = text.lines().collect();
    let cut = 1 + 4 * 4 + 4 + 2;
    let out = dir.path().join("cut.csv");
    std::fs::write(&out, format!("{}\n{}", lines[..cut].join("\n"), &lines[cut][..5]))
        .expect("write");
    std::fs::copy(dataset::record_path(&full), dataset::record_path(&out)).expect("record");
    dataset::run(&model, &data, &opts(&out, methods, 4, None), &mut |_| {}, &|| false)
        .expect("resume");
    assert_eq!(std::fs::read_to_string(&out).expect("resumed"), text);
}

#[test]
fn interrupted_run_resumes_without_duplicates() {
    let dir = temp_dir("resume");
    let data = dir.path().join("data");
    make_dataset(&data, 3);
    let model = small_model(2, 23);
    let methods = vec![Method::InputXGradient];
    let full = dir.path().join("full.csv");
    dataset::run(&model, &data, &opts(&full, methods.clone(), 2, None), &mut |_| {}, &|| false)
        .expect("full");

    let out = dir.path().join("resumed.csv");
    let done = std::cell::Cell::new(0);
    let err = dataset::run(
        &model,
        &data,
        &opts(&out, methods.clone(), 2, None),
        &mut |_| done.set(done.get() + 1),
        &|| done.get() >= 1,
    );
    assert!(err.is_err(), "cancelled after one batch");
    assert_eq!(rows::read(&out).expect("partial").len(), 2 * 2);
    // A row cut off mid-write, as a kill would leave it.
    let mut text = std::fs::read_to_string(&out).expect("read");
    text.push_str("PNEUMONIA/img_000.png,1,");
    std::fs::write(&out, text).expect("write");
    dataset::run(&model, &data, &opts(&out, methods, 2, None), &mut |_| {}, &|| false)
        .expect("resume");
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
    assert_eq!(
        items.iter().map(|i| i.label).collect::<Vec<_>>(),
        vec![1, 2, 0],
        "matched by label name"
    );
}

/// Positive heatmap mass inside the mask and the pointing hit, computed pixel by pixel.
fn localisation_by_hand(h: &[f32], mask: &[f32], n: usize) -> (f32, bool) {
    let s: Vec<f32> = (0..n).map(|p| h[p] + h[n + p] + h[2 * n + p]).collect();
    let (mut inside, mut total) = (0.0_f64, 0.0_f64);
    for (v, m) in s.iter().zip(mask) {
        if *v > 0.0 {
            total += f64::from(*v);
            if *m > 0.5 {
                inside += f64::from(*v);
            }
        }
    }
    let arg = s.iter().enumerate().fold(0, |best, (i, v)| if *v > s[best] { i } else { best });
    ((inside / total) as f32, mask[arg] > 0.5)
}

#[test]
fn lesion_masks_give_localisation_metrics_for_methods_and_gax() {
    use heatmap_explorer::phantom::{self, PhantomOptions};
    let dir = temp_dir("lesion");
    phantom::write_dataset(
        dir.path(),
        &PhantomOptions {
            count: 6,
            seed: 11,
            splits: vec!["test".into()],
            pneumonia_fraction: 0.5,
        },
    )
    .expect("phantoms");
    let data = dir.path().join("test");
    let model = small_model(2, 23);
    let out = dir.path().join("ax.csv");
    let methods = vec![Method::Saliency, Method::InputXGradient];
    let o = RunOptions {
        methods: methods.clone(),
        batch: 4,
        shard: None,
        out: out.clone(),
        gax_steps: 3,
        load: Default::default(),
        overwrite: false,
        target: None,
        labels_csv: None,
    };
    let summary = dataset::run(&model, &data, &o, &mut |_| {}, &|| false).expect("run");
    let rows = rows::read(&out).expect("csv");
    assert_eq!(rows.len(), 6 * (2 + 1) * 2, "methods and GAX, both variants");
    for r in &rows {
        let lesion = r.image.starts_with("PNEUMONIA");
        assert_eq!(r.mask_mass.is_some(), lesion, "{} {}", r.image, r.method);
        assert_eq!(r.pointing.is_some(), lesion);
    }
    // One PNEUMONIA image, Saliency: the row's metrics equal a pixel-by-pixel computation on the
    // image's own heatmap and mask.
    let row = rows
        .iter()
        .find(|r| r.image.starts_with("PNEUMONIA") && r.method.name() == "Saliency")
        .expect("row");
    let img = heatmap_explorer::input::load_image(&data.join(&row.image), [256, 256]).expect("img");
    let x = heatmap_explorer::input::to_tensor(&img, 3, tch::Device::Cpu).expect("tensor");
    let pred = attribution::predict(&model, &x).expect("predict");
    let a = attribution::attribute(
        &model,
        &x,
        Some(&pred),
        Method::Saliency,
        &attribution::Options::default(),
    )
    .expect("attr");
    let (h, _) = heatmap_explorer::ax::normalise(&a).expect("normalise");
    let h = Vec::<f32>::try_from(h.view([-1])).expect("h");
    let mask_path = dataset::lesion::mask_path(&data, &row.image).expect("mask beside the split");
    assert!(mask_path.starts_with(dir.path().join("masks").join("test")));
    let mask = heatmap_explorer::input::load_image(&mask_path, [256, 256]).expect("mask").data
        [..256 * 256]
        .to_vec();
    let (mass, hit) = localisation_by_hand(&h, &mask, 256 * 256);
    assert!((row.mask_mass.expect("mass") - mass).abs() < 1e-4, "{:?} vs {mass}", row.mask_mass);
    assert_eq!(row.pointing, Some(hit));
    // GAX rows: the CO of the final step of a single-image run of the same length.
    let gax_row = rows
        .iter()
        .find(|r| r.image == row.image && r.method == dataset::GAX && r.variant.name() == "sum")
        .expect("gax row");
    let cfg = heatmap_explorer::gax::GaxConfig { max_steps: 3, ..Default::default() };
    let mut last = None;
    heatmap_explorer::gax::engine::run(&model, &x, &[row.label], &cfg, &|| false, &mut |s| {
        last = Some(s)
    })
    .expect("gax");
    let last = last.expect("steps");
    assert!(
        (gax_row.co - last.co).abs() <= 1e-4 * last.co.abs().max(1.0),
        "{} vs {}",
        gax_row.co,
        last.co
    );
    let (gmass, ghit) = localisation_by_hand(&last.heatmap.to_f32(), &mask, 256 * 256);
    assert!((gax_row.mask_mass.expect("gax mass") - gmass).abs() < 1e-3);
    assert_eq!(gax_row.pointing, Some(ghit));
    // The summary: the lesion images per group, the mean mass and the hit rate over them.
    let pneumonia = rows
        .iter()
        .filter(|r| {
            r.method.name() == "Saliency" && r.variant.name() == "sum" && r.pointing.is_some()
        })
        .count();
    assert!(pneumonia > 0);
    let g = summary
        .groups
        .iter()
        .find(|g| g.method.name() == "Saliency" && g.variant.name() == "sum")
        .expect("group");
    assert_eq!(g.lesion_images, pneumonia);
    assert!((0.0..=1.0).contains(&g.pointing));
    assert!(
        summary.groups.iter().any(|g| g.method == dataset::GAX && g.lesion_images == pneumonia)
    );
    assert!(dataset::table(&summary).contains("pointing"));
}

#[test]
fn resume_refuses_another_model_or_settings_and_overwrite_starts_afresh() {
    let dir = temp_dir("mixed");
    let data = dir.path().join("data");
    make_dataset(&data, 2);
    let out = dir.path().join("r.csv");
    let (a, b) = (small_model(2, 31), small_model(2, 32));
    let o = opts(&out, vec![Method::Saliency], 2, None);
    dataset::run(&a, &data, &o, &mut |_| {}, &|| false).expect("model A");
    let record = dataset::RunRecord::read(&out).expect("read").expect("a run record");
    assert_eq!(record.weights, a.info().hash);
    let rows_a = std::fs::read(&out).expect("rows");

    let refused = |model, o: &RunOptions, field: &str| {
        let e = dataset::run(model, &data, o, &mut |_| {}, &|| false).expect_err("mixed run");
        let text = e.to_string();
        assert!(text.contains(field) && text.contains("--overwrite"), "{field}: {text}");
        assert_eq!(std::fs::read(&out).expect("rows"), rows_a, "refused: nothing changes");
    };
    refused(&b, &o, "weights (SHA-256)");
    refused(&a, &opts(&out, vec![Method::DeepLift], 2, None), "methods");
    refused(&a, &opts(&out, vec![Method::Saliency], 4, None), "batch");
    refused(&a, &RunOptions { gax_steps: 2, ..o.clone() }, "GAX steps");
    refused(&a, &opts(&out, vec![Method::Saliency], 2, Shard::parse("0/2").ok()), "shard");
    // Rows without a record (an old file, or another tool's) are refused too.
    let bare = dir.path().join("bare.csv");
    std::fs::copy(&out, &bare).expect("copy");
    let e = dataset::run(
        &a,
        &data,
        &opts(&bare, vec![Method::Saliency], 2, None),
        &mut |_| {},
        &|| false,
    )
    .expect_err("no record");
    assert!(e.to_string().contains("no run record"), "{e}");

    let fresh = RunOptions { overwrite: true, ..o.clone() };
    let summary = dataset::run(&b, &data, &fresh, &mut |_| {}, &|| false).expect("overwrite");
    assert_eq!(summary.images, 4);
    let record = dataset::RunRecord::read(&out).expect("read").expect("record");
    assert_eq!(record.weights, b.info().hash, "the record follows the new run");
    // The same run again resumes (nothing to do, same bytes).
    let before = std::fs::read(&out).expect("rows");
    dataset::run(&b, &data, &o, &mut |_| {}, &|| false).expect("resume");
    assert_eq!(std::fs::read(&out).expect("rows"), before);

    // Merging shards of different models is refused, naming the difference.
    let (s0, s1) = (dir.path().join("s0.csv"), dir.path().join("s1.csv"));
    dataset::run(
        &a,
        &data,
        &opts(&s0, vec![Method::Saliency], 2, Shard::parse("0/2").ok()),
        &mut |_| {},
        &|| false,
    )
    .expect("shard 0");
    dataset::run(
        &b,
        &data,
        &opts(&s1, vec![Method::Saliency], 2, Shard::parse("1/2").ok()),
        &mut |_| {},
        &|| false,
    )
    .expect("shard 1");
    let e = dataset::merge_files(&dir.path().join("m.csv"), &[s0, s1]).expect_err("mixed merge");
    assert!(e.to_string().contains("weights"), "{e}");
}

#[test]
fn sigkilled_cli_runs_resume_to_the_same_bytes() {
    use std::process::Command;
    let dir = temp_dir("sigkill");
    let data = dir.path().join("data");
    make_dataset(&data, 8);
    let card =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/phantom_squeezenet.json");
    let ax = |out: &Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_heatmap-explorer"));
        c.args(["ax", "--methods", "Saliency,DeepLift", "--batch", "2", "--model"])
            .arg(&card)
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(out);
        c
    };
    let full = dir.path().join("full.csv");
    let status = ax(&full).output().expect("run");
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));

    let out = dir.path().join("killed.csv");
    // Kill at random points spread out over the run: early (loading), during batches, late; each
    // kill lands at a random moment in its own 600 ms window (the seed is in the messages).
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.subsec_nanos() | 1);
    let mut state = u64::from(seed);
    let mut jitter = || {
        // xorshift64: enough to spread the kills, reproducible from the seed.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % 600
    };
    let mut kills = 0;
    for window_ms in [400_u64, 1000, 1600, 2300, 3100] {
        let delay_ms = window_ms + jitter();
        let mut child = ax(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        if child.try_wait().expect("wait").is_none() {
            child.kill().expect("SIGKILL");
            kills += 1;
        }
        let _ = child.wait();
    }
    let status = ax(&out).output().expect("resume");
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    assert!(kills >= 1, "at least one run was killed mid-way (seed {seed})");
    assert_eq!(
        std::fs::read(&out).expect("killed"),
        std::fs::read(&full).expect("full"),
        "after {kills} kills (seed {seed})"
    );
    assert_eq!(
        std::fs::read(dataset::summary_path(&out)).expect("summary"),
        std::fs::read(dataset::summary_path(&full)).expect("summary")
    );
}

#[test]
fn out_of_memory_batches_are_split_and_give_the_rows_of_smaller_batches() {
    use std::process::Command;
    let dir = temp_dir("oom");
    let data = dir.path().join("data");
    make_dataset(&data, 2);
    let card =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/phantom_squeezenet.json");
    let ax = |out: &Path, batch: &str, fault: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_heatmap-explorer"));
        c.args(["ax", "--methods", "Saliency", "--batch", batch, "--model"])
            .arg(&card)
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(out);
        if let Some(f) = fault {
            c.env("HEATMAP_EXPLORER_FAULT", f);
        }
        c.output().expect("run")
    };
    let pairs = dir.path().join("pairs.csv");
    let run = ax(&pairs, "2", None);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    // The batch of 4 fails as a GPU out of memory would and is split into the pairs above.
    let split = dir.path().join("split.csv");
    let run = ax(&split, "4", Some("oom-above-batch=2"));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("out of memory: batch split in two and retried (1 so far)"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&split).expect("split"), std::fs::read(&pairs).expect("pairs"));
    // When not even one image fits (and there is no GPU to leave), the run stops with one line.
    let none = dir.path().join("none.csv");
    let run = ax(&none, "4", Some("oom-above-batch=0"));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(
            "error: out of memory (injected by HEATMAP_EXPLORER_FAULT at a batch of 1 image(s))"
        ),
        "{stderr}"
    );
}
