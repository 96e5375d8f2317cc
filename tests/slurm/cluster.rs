//! A private one-node SLURM cluster for the tests: munged, slurmctld and slurmd started from a
//! generated slurm.conf in a temporary folder, every job cancelled and every daemon stopped when
//! it is dropped, every wait bounded.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
pub fn skip_reason() -> Option<String> {
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
pub fn wait_for(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A private SLURM cluster: one controller, one node, its own munged. Dropping it cancels every
/// job, waits for the queue to empty, then stops the daemons.
pub struct Cluster {
    dir: PathBuf,
    /// The slurm.conf the client commands need (`SLURM_CONF`).
    pub conf: PathBuf,
    daemons: Vec<(&'static str, Child)>,
}

impl Cluster {
    /// Starts the daemons in `dir` and waits until the node is idle.
    pub fn start(dir: &Path) -> Self {
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

    /// A client command (sbatch, scancel, …) talking to this cluster.
    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(find(program).unwrap_or_else(|| program.into()));
        c.env("SLURM_CONF", &self.conf);
        c
    }

    /// Runs `cmd`, asserting success, and returns its stdout.
    pub fn output(&self, cmd: &mut Command) -> String {
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
    pub fn state(&self, job: &str) -> String {
        let out = self.cmd("scontrol").args(["show", "job", "-o", job]).output().expect("scontrol");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .find_map(|w| w.strip_prefix("JobState="))
            .unwrap_or("UNKNOWN")
            .to_owned()
    }

    /// Waits until a job has ended and returns its final state.
    pub fn wait_ended(&self, job: &str, limit: Duration) -> String {
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
