//! Dataset runs as SLURM job arrays: the sbatch commands that run `ax --data --shard I/N` as one
//! array task per shard and chain a `merge` job to them, built here (testable without SLURM) and
//! printed or run by `heatmap-explorer cluster slurm`.
//!
//! The jobs run the shipped script `scripts/slurm/ax-array.sbatch` (embedded here and written
//! into the output folder), which reads its parameters from `HX_*` environment variables.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

/// The job script, as shipped in `scripts/slurm/ax-array.sbatch`.
pub const SBATCH_SCRIPT: &str = include_str!("../scripts/slurm/ax-array.sbatch");

/// Everything a dataset run on SLURM needs.
#[derive(Debug, Clone, PartialEq)]
pub struct SlurmPlan {
    /// The heatmap-explorer binary the tasks run (absolute).
    pub bin: PathBuf,
    /// The model card.
    pub model: PathBuf,
    /// The labelled image folder.
    pub data: PathBuf,
    /// The output folder: `part_I.csv`, `logs/`, then `ax.csv` and its summary.
    pub out: PathBuf,
    /// Array size N (shards).
    pub tasks: usize,
    /// Submit only these tasks (a resubmission); empty submits all N.
    pub only: Vec<usize>,
    /// Images per batch.
    pub batch: usize,
    /// GAX steps per image (0: no GAX rows).
    pub gax_steps: usize,
    /// Methods, comma-separated, or `all`.
    pub methods: String,
    /// A multi-label model's pathology to score (`ax --target`), or the class-folder layout.
    pub target: Option<String>,
    /// The labels CSV of `ax --labels-csv` (with `target`), or the per-pathology folders.
    pub labels_csv: Option<PathBuf>,
    /// `--device` of the tasks (`auto`: the task's GPU when it has one, else the CPU).
    pub device: String,
    /// CPUs per task (also the tasks' libtorch threads).
    pub cpus: usize,
    /// The partition, or the cluster's default.
    pub partition: Option<String>,
    /// Ask for one GPU per task (`--gres=gpu:1`).
    pub gpus: bool,
    /// More sbatch options for both jobs (time, memory, account).
    pub sbatch_args: Vec<String>,
}

/// The job ids of a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The array job.
    pub array: String,
    /// The merge job, waiting for the array.
    pub merge: String,
}

impl SlurmPlan {
    /// Checks the parameters the scheduler would only reject later (or never).
    pub fn validate(&self) -> Result<()> {
        if self.tasks == 0 {
            return Err(Error::invalid("--tasks must be at least 1"));
        }
        if let Some(t) = self.only.iter().find(|&&t| t >= self.tasks) {
            return Err(Error::invalid(format!(
                "--only {t}: tasks are numbered 0 to {}",
                self.tasks - 1
            )));
        }
        if self.batch == 0 || self.cpus == 0 {
            return Err(Error::invalid("--batch and --cpus must be at least 1"));
        }
        if !self.model.is_file() {
            return Err(Error::invalid(format!("model card {} not found", self.model.display())));
        }
        if !self.data.is_dir() {
            return Err(Error::invalid(format!("data folder {} not found", self.data.display())));
        }
        if let Some(csv) = &self.labels_csv {
            if self.target.is_none() {
                return Err(Error::invalid("--labels-csv needs --target PATHOLOGY"));
            }
            if !csv.is_file() {
                return Err(Error::invalid(format!("labels CSV {} not found", csv.display())));
            }
        }
        Ok(())
    }

    /// Where the job script is written.
    pub fn script(&self) -> PathBuf {
        self.out.join("ax-array.sbatch")
    }

    /// The merged CSV the merge job writes.
    pub fn merged_csv(&self) -> PathBuf {
        self.out.join("ax.csv")
    }

    /// The array's task list: `0-(N-1)`, or the `--only` tasks.
    pub fn array_spec(&self) -> String {
        if self.only.is_empty() {
            format!("0-{}", self.tasks - 1)
        } else {
            self.only.iter().map(usize::to_string).collect::<Vec<_>>().join(",")
        }
    }

    /// The script's parameters, exported to both jobs (`--export=ALL`).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let path = |p: &Path| p.to_string_lossy().into_owned();
        vec![
            ("HX_BIN", path(&self.bin)),
            ("HX_MODEL", path(&self.model)),
            ("HX_DATA", path(&self.data)),
            ("HX_OUT", path(&self.out)),
            ("HX_TASKS", self.tasks.to_string()),
            ("HX_BATCH", self.batch.to_string()),
            ("HX_GAX_STEPS", self.gax_steps.to_string()),
            ("HX_METHODS", self.methods.clone()),
            ("HX_DEVICE", self.device.clone()),
            ("HX_TARGET", self.target.clone().unwrap_or_default()),
            ("HX_LABELS_CSV", self.labels_csv.as_deref().map(path).unwrap_or_default()),
        ]
    }

    fn common(&self) -> Vec<String> {
        let mut v: Vec<String> =
            self.partition.iter().map(|p| format!("--partition={p}")).collect();
        v.extend(self.sbatch_args.iter().cloned());
        v
    }

    /// sbatch's arguments for the array job.
    pub fn array_args(&self) -> Vec<String> {
        let mut v = vec![
            "--parsable".to_owned(),
            format!("--array={}", self.array_spec()),
            format!("--cpus-per-task={}", self.cpus),
        ];
        if self.gpus {
            v.push("--gres=gpu:1".to_owned());
        }
        v.extend(self.common());
        v.push(format!("--output={}", self.out.join("logs/ax_%A_%a.log").display()));
        v.push("--export=ALL,HX_MODE=task".to_owned());
        v.push(self.script().to_string_lossy().into_owned());
        v
    }

    /// sbatch's arguments for the merge job that waits for `array_job`; it is removed, not left
    /// pending, when a task fails.
    pub fn merge_args(&self, array_job: &str) -> Vec<String> {
        let mut v = vec![
            "--parsable".to_owned(),
            "--job-name=hx-merge".to_owned(),
            format!("--dependency=afterok:{array_job}"),
            "--kill-on-invalid-dep=yes".to_owned(),
            "--cpus-per-task=1".to_owned(),
        ];
        v.extend(self.common());
        v.push(format!("--output={}", self.out.join("logs/merge_%j.log").display()));
        v.push("--export=ALL,HX_MODE=merge".to_owned());
        v.push(self.script().to_string_lossy().into_owned());
        v
    }

    /// The commands as a shell snippet to paste on the login node.
    pub fn shell(&self) -> String {
        let env: Vec<String> =
            self.env().iter().map(|(k, v)| format!("{k}={}", shell_quote(v))).collect();
        let line = |args: &[String]| args.iter().map(|a| shell_quote(a)).collect::<Vec<_>>();
        let array = line(&self.array_args()).join(" ");
        let merge =
            line(&self.merge_args("__ARRAY__")).join(" ").replace("__ARRAY__", "${job%%;*}");
        format!("export {}\njob=$(sbatch {array})\nsbatch {merge}\n", env.join(" \\\n  "),)
    }

    /// Creates the output folder and its `logs/`, and writes the job script there.
    pub fn prepare(&self) -> Result<()> {
        let logs = self.out.join("logs");
        std::fs::create_dir_all(&logs).map_err(|e| Error::io(&logs, e))?;
        let script = self.script();
        crate::io::write_atomic(&script, SBATCH_SCRIPT.as_bytes())?;
        set_executable(&script)
    }

    /// Submits the array, then the merge job chained to it.
    pub fn submit(&self) -> Result<Submitted> {
        self.prepare()?;
        let array = parse_job_id(&sbatch(&self.array_args(), &self.env())?)?;
        let merge = parse_job_id(&sbatch(&self.merge_args(&array), &self.env())?)?;
        Ok(Submitted { array, merge })
    }
}

#[cfg(unix)]
fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| Error::io(path, e))
}

#[cfg(not(unix))]
fn set_executable(_: &Path) -> Result<()> {
    Ok(())
}

fn sbatch(args: &[String], env: &[(&str, String)]) -> Result<String> {
    let out = Command::new("sbatch")
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .map_err(|e| {
            Error::invalid(format!("could not run sbatch ({e}): is this a SLURM node?"))
        })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(Error::invalid(format!("sbatch failed ({}): {}", out.status, err.trim())));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The job id in `sbatch --parsable`'s output (`ID` or `ID;CLUSTER`).
pub fn parse_job_id(stdout: &str) -> Result<String> {
    let id = stdout.trim().split(';').next().unwrap_or_default();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(format!("no job id in sbatch's output '{}'", stdout.trim())));
    }
    Ok(id.to_owned())
}

/// Whether `sinfo` lists GPUs (a `gpu` GRES) in the partition (or any partition); None when
/// `sinfo` cannot be run.
pub fn partition_has_gpus(partition: Option<&str>) -> Option<bool> {
    let mut cmd = Command::new("sinfo");
    cmd.args(["-h", "-o", "%G"]);
    if let Some(p) = partition {
        cmd.args(["-p", p]);
    }
    let out = cmd.output().ok().filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&out.stdout).contains("gpu"))
}

/// `s` quoted for a POSIX shell when it needs quoting.
pub fn shell_quote(s: &str) -> String {
    let plain =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-./:=,%@+".contains(&b));
    if plain { s.to_owned() } else { format!("'{}'", s.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> SlurmPlan {
        SlurmPlan {
            bin: "/opt/hx/heatmap-explorer".into(),
            model: "/m/card.json".into(),
            data: "/d/test set".into(),
            out: "/runs/a".into(),
            tasks: 4,
            only: vec![],
            batch: 8,
            gax_steps: 0,
            methods: "Saliency,DeepLift".into(),
            target: None,
            labels_csv: None,
            device: "auto".into(),
            cpus: 2,
            partition: None,
            gpus: false,
            sbatch_args: vec![],
        }
    }

    #[test]
    fn array_and_merge_commands() {
        let mut p = plan();
        let a = p.array_args();
        assert_eq!(a[..3], ["--parsable", "--array=0-3", "--cpus-per-task=2"]);
        assert!(!a.iter().any(|s| s.starts_with("--gres")));
        assert_eq!(a.last().map(String::as_str), Some("/runs/a/ax-array.sbatch"));
        assert!(a.contains(&"--output=/runs/a/logs/ax_%A_%a.log".to_owned()));
        assert!(a.contains(&"--export=ALL,HX_MODE=task".to_owned()));
        let m = p.merge_args("77");
        assert!(m.contains(&"--dependency=afterok:77".to_owned()));
        assert!(m.contains(&"--export=ALL,HX_MODE=merge".to_owned()));
        p.only = vec![1, 3];
        p.gpus = true;
        p.partition = Some("gpu".into());
        p.sbatch_args = vec!["--time=1:00:00".into()];
        let a = p.array_args();
        assert_eq!(a[1], "--array=1,3");
        for s in ["--gres=gpu:1", "--partition=gpu", "--time=1:00:00"] {
            assert!(a.contains(&s.to_owned()), "{s} in {a:?}");
        }
        let m = p.merge_args("77");
        assert!(m.contains(&"--partition=gpu".to_owned()) && !m.contains(&"--gres=gpu:1".into()));
        let env = p.env();
        assert!(env.contains(&("HX_TASKS", "4".into())), "the shard count stays N");
        assert!(env.contains(&("HX_METHODS", "Saliency,DeepLift".into())));
    }

    #[test]
    fn shell_snippet_quotes_and_chains() {
        let s = plan().shell();
        assert!(s.contains("HX_DATA='/d/test set'"), "{s}");
        assert!(s.contains("job=$(sbatch --parsable --array=0-3 "), "{s}");
        assert!(s.contains("--dependency=afterok:${job%%;*}"), "{s}");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn job_ids_and_validation() {
        assert_eq!(parse_job_id("1234\n").ok().as_deref(), Some("1234"));
        assert_eq!(parse_job_id("99;cluster2").ok().as_deref(), Some("99"));
        assert!(parse_job_id("Submitted batch job 5").is_err());
        assert!(parse_job_id("").is_err());
        let mut p = plan();
        p.only = vec![4];
        assert!(p.validate().expect_err("invalid").to_string().contains("0 to 3"));
        p.only = vec![];
        p.tasks = 0;
        assert!(p.validate().is_err());
        p.tasks = 2;
        assert!(p.validate().expect_err("invalid").to_string().contains("card.json"));
        let dir = tempfile::tempdir().expect("tempdir");
        let card = dir.path().join("card.json");
        std::fs::write(&card, "{}").expect("card");
        p.model = card;
        p.data = dir.path().into();
        p.labels_csv = Some(dir.path().join("labels.csv"));
        assert!(p.validate().expect_err("invalid").to_string().contains("--target"));
        p.target = Some("Effusion".into());
        assert!(p.validate().expect_err("invalid").to_string().contains("labels.csv"));
        std::fs::write(dir.path().join("labels.csv"), "image,Effusion\n").expect("csv");
        p.validate().expect("valid");
        assert!(p.env().contains(&("HX_TARGET", "Effusion".into())));
    }

    #[test]
    fn the_script_reads_every_parameter() {
        for (var, _) in plan().env() {
            assert!(SBATCH_SCRIPT.contains(&format!("${var}")), "{var} unused by the script");
        }
        assert!(SBATCH_SCRIPT.contains("--shard \"$task/$HX_TASKS\""));
        assert!(SBATCH_SCRIPT.contains("--target \"$HX_TARGET\""));
        assert!(SBATCH_SCRIPT.contains("--labels-csv \"$HX_LABELS_CSV\""));
    }
}
