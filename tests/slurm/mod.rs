//! Dataset runs on a real one-node SLURM cluster started by the test (see `cluster`): the shipped
//! job script and `cluster slurm --submit` each run a 4-task array and the chained merge, which
//! must equal one unsharded `ax --data` run byte for byte, also after one task is cancelled
//! mid-way and resubmitted. Skipped, with a message, where SLURM cannot run (not root, not
//! installed: `.ci/run` installs slurm-wlm and munge). Also: `cluster slurm`'s printed commands,
//! and the PBS twin's subjobs and merge.

mod cluster;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use self::cluster::{Cluster, skip_reason, wait_for};
use crate::util::temp_dir;

/// The run each job array repeats: 32 phantoms in batches of 2 (4 batches per task), two
/// methods and 10 GAX steps, one thread per task.
const METHODS: &str = "Saliency,DeepLift";
const BATCH: &str = "2";
const GAX_STEPS: &str = "10";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_heatmap-explorer"))
}

/// A link to the binary in `dir`, so that every job of the test runs the same file even when
/// cargo replaces the binary meanwhile.
fn pinned_binary(dir: &Path) -> PathBuf {
    let exe = dir.join("heatmap-explorer");
    let built = env!("CARGO_BIN_EXE_heatmap-explorer");
    std::fs::hard_link(built, &exe)
        .or_else(|_| std::fs::copy(built, &exe).map(|_| ()))
        .expect("link the binary");
    exe
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// `array job A (...), merge job M: ...`, as the script and `cluster slurm --submit` print it.
fn job_ids(text: &str) -> (String, String) {
    let after = |key: &str| {
        text.split(key)
            .nth(1)
            .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| panic!("no '{key}' id in: {text}"))
            .to_owned()
    };
    (after("array job "), after("merge job "))
}

fn rows(p: &Path) -> usize {
    std::fs::read_to_string(p).map_or(0, |t| t.lines().count().saturating_sub(1))
}

fn assert_same_bytes(a: &Path, b: &Path) {
    let (x, y) =
        (std::fs::read_to_string(a).expect("read"), std::fs::read_to_string(b).expect("read"));
    if x != y {
        let line = x.lines().zip(y.lines()).position(|(p, q)| p != q);
        let show = |t: &str| line.and_then(|l| t.lines().nth(l)).unwrap_or("").to_owned();
        panic!(
            "{} differs from {} ({} and {} lines; first difference at line {line:?}: {} vs {})",
            a.display(),
            b.display(),
            x.lines().count(),
            y.lines().count(),
            show(&x),
            show(&y)
        );
    }
}

#[test]
fn dataset_runs_as_a_slurm_array_and_merges_to_the_unsharded_csv() {
    if let Some(why) = skip_reason() {
        // Straight to stderr, past the test harness's capture, so the skip shows.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED slurm test: {why}; .ci/run installs SLURM and CI runs it as root"
        );
        return;
    }
    let tmp = temp_dir("slurm");
    let root = tmp.path();
    let exe = pinned_binary(root);
    let data = root.join("data");
    let status = Command::new(&exe)
        .args(["phantom", "--count", "32", "--seed", "7", "--out"])
        .arg(&data)
        .output()
        .expect("phantom");
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let model = repo("models/phantom_squeezenet.json");
    let cluster = Cluster::start(&root.join("slurm"));

    // One unsharded run with each task's batch size and thread count.
    let full = root.join("full.csv");
    let out = Command::new(&exe)
        .args([
            "--threads",
            "1",
            "ax",
            "--methods",
            METHODS,
            "--batch",
            BATCH,
            "--gax-steps",
            GAX_STEPS,
        ])
        .arg("--model")
        .arg(&model)
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&full)
        .output()
        .expect("ax");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let full_rows = rows(&full);
    assert_eq!(full_rows, 32 * 3 * 2, "two methods and GAX, both variants");

    // 1. The shipped script submits itself: 4 tasks, then the merge.
    let run1 = root.join("run1");
    let text = cluster.output(
        cluster
            .cmd("bash")
            .arg(repo("scripts/slurm/ax-array.sbatch"))
            .env("HX_BIN", &exe)
            .env("HX_MODEL", &model)
            .env("HX_DATA", &data)
            .env("HX_OUT", &run1)
            .env("HX_TASKS", "4")
            .env("HX_BATCH", BATCH)
            .env("HX_GAX_STEPS", GAX_STEPS)
            .env("HX_METHODS", METHODS)
            .env("HX_CPUS", "1")
            .env("HX_GPUS", "0"),
    );
    let (array, merge) = job_ids(&text);
    let merged = cluster.wait_ended(&merge, Duration::from_secs(240));
    assert_eq!(merged, "COMPLETED", "merge job {merge}; logs in {}", run1.join("logs").display());
    for t in 0..4 {
        assert_eq!(cluster.state(&format!("{array}_{t}")), "COMPLETED");
    }
    assert_same_bytes(&run1.join("ax.csv"), &full);
    assert_same_bytes(&run1.join("ax.summary.json"), &root.join("full.summary.json"));
    assert!(std::fs::read_to_string(run1.join("summary.txt")).expect("table").contains("GAX"));

    // 2. `cluster slurm --submit`; task 0 is cancelled after its first batch, then resubmitted.
    let run2 = root.join("run2");
    let submit = |extra: &[&str]| {
        let mut c = Command::new(&exe);
        c.env("SLURM_CONF", &cluster.conf)
            .args(["cluster", "slurm", "--tasks", "4", "--cpus", "1", "--cpu-only"])
            .args(["--batch", BATCH, "--gax-steps", GAX_STEPS, "--methods", METHODS])
            .arg("--model")
            .arg(&model)
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(&run2)
            .arg("--submit")
            .args(extra);
        job_ids(&cluster.output(&mut c))
    };
    let (array, merge) = submit(&[]);
    let part0 = run2.join("part_0.csv");
    wait_for(Duration::from_secs(120), "task 0's first batch", || rows(&part0) > 0);
    cluster.output(cluster.cmd("scancel").arg(format!("{array}_0")));
    assert_eq!(cluster.wait_ended(&format!("{array}_0"), Duration::from_secs(60)), "CANCELLED");
    let partial = rows(&part0);
    assert!(
        partial > 0 && partial < full_rows / 4,
        "task 0 was cancelled mid-way ({partial} of {} rows)",
        full_rows / 4
    );
    assert!(!run2.join("part_0.done").exists());
    // The first merge job never runs: one of its tasks failed.
    assert_eq!(cluster.wait_ended(&merge, Duration::from_secs(240)), "CANCELLED");
    assert!(!run2.join("ax.csv").exists());
    for t in 1..4 {
        assert_eq!(
            cluster.wait_ended(&format!("{array}_{t}"), Duration::from_secs(240)),
            "COMPLETED"
        );
    }
    let (again, merge) = submit(&["--only", "0"]);
    assert_ne!(again, array);
    assert_eq!(cluster.wait_ended(&merge, Duration::from_secs(240)), "COMPLETED");
    assert_eq!(rows(&part0), full_rows / 4, "the resumed task added only its missing rows");
    assert_same_bytes(&run2.join("ax.csv"), &full);
    assert_same_bytes(&run2.join("ax.summary.json"), &root.join("full.summary.json"));
    drop(cluster);
}

#[test]
fn cluster_slurm_prints_the_commands_and_writes_the_script() {
    let tmp = temp_dir("slurm-print");
    let data = tmp.path().join("data");
    std::fs::create_dir_all(data.join("NORMAL")).expect("mkdir");
    let out = tmp.path().join("out dir");
    let run = |extra: &[&str]| {
        bin()
            .args(["cluster", "slurm", "--cpu-only", "--tasks", "3", "--gax-steps", "4"])
            .arg("--model")
            .arg(repo("models/phantom_squeezenet.json"))
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(&out)
            .args(extra)
            .output()
            .expect("run")
    };
    let o = run(&["--only", "1,2", "--sbatch=--time=2:00:00"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for part in [
        "HX_TASKS=3",
        "HX_GAX_STEPS=4",
        "job=$(sbatch --parsable --array=1,2 --cpus-per-task=4 --time=2:00:00 ",
        "--dependency=afterok:${job%%;*}",
        "--export=ALL,HX_MODE=merge",
    ] {
        assert!(text.contains(part), "{part} missing from:\n{text}");
    }
    assert!(text.contains(&format!("HX_OUT='{}'", out.display())), "quoted: {text}");
    let script = out.join("ax-array.sbatch");
    assert_eq!(
        std::fs::read(&script).expect("script written"),
        std::fs::read(repo("scripts/slurm/ax-array.sbatch")).expect("shipped")
    );
    assert!(out.join("logs").is_dir());
    let bad = run(&["--only", "3"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("0 to 2"));
    for s in ["scripts/slurm/ax-array.sbatch", "scripts/pbs/ax-array.pbs"] {
        let check = Command::new("bash").arg("-n").arg(repo(s)).output().expect("bash");
        assert!(check.status.success(), "{s}: {}", String::from_utf8_lossy(&check.stderr));
    }
}

/// The PBS twin's compute-node side without a PBS server: each subjob as PBS Pro starts it
/// (`PBS_ARRAY_INDEX`), then the merge, against one unsharded run; and a merge with a subjob
/// missing refuses, naming it.
#[test]
fn pbs_script_subjobs_and_merge_equal_the_unsharded_run() {
    let tmp = temp_dir("pbs");
    let root = tmp.path();
    let data = root.join("data");
    let model = repo("models/phantom_squeezenet.json");
    let ok = |c: &mut Command| {
        let o = c.output().expect("run");
        assert!(o.status.success(), "{c:?}: {}", String::from_utf8_lossy(&o.stderr));
        o
    };
    ok(bin().args(["phantom", "--count", "8", "--seed", "3", "--out"]).arg(&data));
    let full = root.join("full.csv");
    ok(bin()
        .args(["--threads", "1", "ax", "--methods", "InputXGradient", "--batch", "2"])
        .arg("--model")
        .arg(&model)
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&full));
    let out = root.join("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    let script = |mode: &str| {
        let mut c = Command::new("bash");
        c.arg(repo("scripts/pbs/ax-array.pbs"))
            .env("HX_MODE", mode)
            .env("HX_BIN", env!("CARGO_BIN_EXE_heatmap-explorer"))
            .env("HX_MODEL", &model)
            .env("HX_DATA", &data)
            .env("HX_OUT", &out)
            .env("HX_TASKS", "3")
            .env("HX_BATCH", "2")
            .env("HX_METHODS", "InputXGradient")
            .env("HX_CPUS", "1")
            .env_remove("PBS_O_WORKDIR");
        c
    };
    for task in ["0", "2"] {
        ok(script("task").env("PBS_ARRAY_INDEX", task));
    }
    let refused = script("merge").output().expect("merge");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("HX_ONLY=1"), "names subjob 1");
    ok(script("task").env("HX_TASK", "1"));
    ok(&mut script("merge"));
    assert_same_bytes(&out.join("ax.csv"), &full);
    assert_same_bytes(&out.join("ax.summary.json"), &root.join("full.summary.json"));
}
