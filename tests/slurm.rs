//! Dataset runs on a real one-node SLURM cluster started by the test (munged, slurmctld, slurmd
//! with a generated slurm.conf, all in a temporary folder, stopped at the end): the shipped job
//! script and `cluster slurm --submit` each run a 4-task array and the chained merge, which must
//! equal one unsharded `ax --data` run byte for byte, also after one task is cancelled mid-way
//! and resubmitted. Skipped, with a message, where SLURM cannot run (not root, not installed:
//! `.ci/run` installs slurm-wlm and munge).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::temp_dir;

const BINARIES: [&str; 8] =
    ["munged", "slurmctld", "slurmd", "sbatch", "scancel", "squeue", "scontrol", "sinfo"];
const ENDED: [&str; 8] = [
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "TIMEOUT",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "BOOT_FAIL",
    "DEADLINE",
];
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

fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            ["/usr/sbin", "/usr/bin", "/sbin", "/usr/local/sbin", "/usr/local/bin"].map(Into::into),
        )
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Why SLURM cannot run here, if it cannot.
fn skip_reason() -> Option<String> {
    if euid() != 0 {
        return Some("not root (slurmd and munged run as root here)".into());
    }
    let missing: Vec<&str> = BINARIES.iter().copied().filter(|b| find(b).is_none()).collect();
    (!missing.is_empty())
        .then(|| format!("{} not installed (apt-get install slurm-wlm munge)", missing.join(", ")))
}

/// The effective user id, from /proc (the crate denies `unsafe`, which libc's geteuid needs).
fn euid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|u| u.parse().ok()))
        })
        .unwrap_or(u32::MAX)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    name.trim().split('.').next().unwrap_or("localhost").to_owned()
}

/// Polls `ready` every 100 ms until it holds, panicking with `what` after `limit`.
fn wait_for(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A private SLURM cluster: one controller, one node, its own munged. Dropping it cancels every
/// job, waits for the queue to empty, then stops the daemons.
struct Cluster {
    dir: PathBuf,
    conf: PathBuf,
    daemons: Vec<(&'static str, Child)>,
}

impl Cluster {
    fn start(dir: &Path) -> Self {
        let mut cluster =
            Self { dir: dir.to_owned(), conf: dir.join("slurm.conf"), daemons: Vec::new() };
        let munge = dir.join("munge");
        for d in ["munge", "state", "spool", "log"] {
            std::fs::create_dir_all(dir.join(d)).expect("mkdir");
        }
        let key_file = munge.join("munge.key");
        std::fs::write(&key_file, random_bytes(1024)).expect("munge key");
        set_mode(&key_file, 0o600);
        // munged wants every folder above its socket searchable by all (a umask of 077 would not).
        for d in [dir.parent().unwrap_or(dir), dir, &munge] {
            set_mode(d, 0o755);
        }
        let socket = munge.join("socket");
        cluster.spawn(
            "munged",
            Command::new(find("munged").expect("munged")).arg("-F").args([
                format!("--socket={}", socket.display()),
                format!("--key-file={}", key_file.display()),
                format!("--log-file={}", munge.join("log").display()),
                format!("--pid-file={}", munge.join("pid").display()),
                format!("--seed-file={}", munge.join("seed").display()),
            ]),
        );
        cluster.wait_alive(Duration::from_secs(20), "munged's socket", || socket.exists());
        let (ctl_port, node_port) = (free_port(), free_port());
        let host = hostname();
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let d = dir.display();
        let conf = format!(
            "ClusterName=hxtest\nSlurmctldHost={host}(127.0.0.1)\nSlurmctldPort={ctl_port}\n\
             SlurmdPort={node_port}\nSlurmUser=root\nSlurmdUser=root\nAuthType=auth/munge\n\
             CredType=cred/munge\nAuthInfo=socket={socket}\nStateSaveLocation={d}/state\n\
             SlurmdSpoolDir={d}/spool\nSlurmctldPidFile={d}/slurmctld.pid\n\
             SlurmdPidFile={d}/slurmd.pid\nSlurmctldLogFile={d}/log/slurmctld.log\n\
             SlurmdLogFile={d}/log/slurmd.log\nProctrackType=proctrack/linuxproc\n\
             TaskPlugin=task/none\nJobAcctGatherType=jobacct_gather/none\n\
             AccountingStorageType=accounting_storage/none\nJobCompType=jobcomp/none\n\
             SelectType=select/cons_tres\nSelectTypeParameters=CR_CPU\nReturnToService=2\n\
             MpiDefault=none\nSwitchType=switch/none\nKillWait=5\nMinJobAge=600\n\
             MailProg=/bin/true\n\
             NodeName=hxnode NodeHostname={host} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN\n\
             PartitionName=hx Nodes=hxnode Default=YES MaxTime=INFINITE State=UP\n",
            socket = socket.display(),
        );
        std::fs::write(&cluster.conf, conf).expect("slurm.conf");
        let conf_path = cluster.conf.clone();
        cluster.spawn(
            "slurmctld",
            Command::new(find("slurmctld").expect("slurmctld")).arg("-D").arg("-f").arg(&conf_path),
        );
        cluster.wait_alive(Duration::from_secs(60), "slurmctld to answer", || {
            cluster_ok(&conf_path, &["scontrol", "ping"], "UP")
        });
        cluster.spawn(
            "slurmd",
            Command::new(find("slurmd").expect("slurmd"))
                .args(["-D", "-N", "hxnode", "-f"])
                .arg(&conf_path),
        );
        cluster.wait_alive(Duration::from_secs(60), "the node to be idle", || {
            cluster_ok(&conf_path, &["sinfo", "-h", "-o", "%T"], "idle")
        });
        cluster
    }

    fn spawn(&mut self, name: &'static str, cmd: &mut Command) {
        let log = std::fs::File::create(self.dir.join("log").join(format!("{name}.out")))
            .expect("daemon log");
        let child = cmd
            .env("SLURM_CONF", &self.conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {name}: {e}"));
        self.daemons.push((name, child));
    }

    /// Like [`wait_for`], but fails at once, with the daemons' output, when one of them died.
    fn wait_alive(&mut self, limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
        let start = Instant::now();
        while !ready() {
            let dead = self.daemons.iter_mut().find_map(|(name, child)| {
                child.try_wait().ok().flatten().map(|status| format!("{name} exited ({status})"))
            });
            if let Some(dead) = dead {
                panic!("{dead} before {what}:\n{}", self.logs());
            }
            assert!(start.elapsed() < limit, "timed out waiting for {what}:\n{}", self.logs());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn logs(&self) -> String {
        let mut s = String::new();
        for name in ["munged", "slurmctld", "slurmd"] {
            let p = self.dir.join("log").join(format!("{name}.out"));
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            s.push_str(&format!("--- {name}\n"));
            for l in tail.iter().rev() {
                s.push_str(l);
                s.push('\n');
            }
        }
        s
    }

    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(find(program).unwrap_or_else(|| program.into()));
        c.env("SLURM_CONF", &self.conf);
        c
    }

    fn output(&self, cmd: &mut Command) -> String {
        let out = cmd.output().expect("run");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{cmd:?} failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }

    /// The state of a job or array task (`COMPLETED`, `RUNNING`, …).
    fn state(&self, job: &str) -> String {
        let out = self.cmd("scontrol").args(["show", "job", "-o", job]).output().expect("scontrol");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .find_map(|w| w.strip_prefix("JobState="))
            .unwrap_or("UNKNOWN")
            .to_owned()
    }

    /// Waits until a job has ended and returns its final state.
    fn wait_ended(&self, job: &str, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            let s = self.state(job);
            if ENDED.contains(&s.as_str()) {
                return s;
            }
            assert!(
                start.elapsed() < limit,
                "job {job} still {s} after {limit:?}; queue:\n{}",
                self.queue()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn queue(&self) -> String {
        self.cmd("squeue")
            .args(["-h", "-o", "%i %T %r"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let ids: Vec<String> =
            self.queue().lines().filter_map(|l| l.split(' ').next()).map(str::to_owned).collect();
        if !ids.is_empty() {
            let _ = self.cmd("scancel").args(&ids).status();
            let start = Instant::now();
            while !self.queue().trim().is_empty() && start.elapsed() < Duration::from_secs(30) {
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        for (_, child) in self.daemons.iter_mut().rev() {
            let pid = child.id().to_string();
            if !Command::new("kill").args(["-TERM", &pid]).status().is_ok_and(|s| s.success()) {
                let _ = child.kill();
            }
            let start = Instant::now();
            while !matches!(child.try_wait(), Ok(Some(_))) {
                if start.elapsed() > Duration::from_secs(10) {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

fn cluster_ok(conf: &Path, args: &[&str], expect: &str) -> bool {
    find(args[0]).is_some_and(|p| {
        Command::new(p).args(&args[1..]).env("SLURM_CONF", conf).output().is_ok_and(|o| {
            o.status.success() && String::from_utf8_lossy(&o.stdout).contains(expect)
        })
    })
}

fn random_bytes(n: usize) -> Vec<u8> {
    use std::io::Read as _;
    let mut v = vec![0; n];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut v)).expect("urandom");
    v
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
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
