//! `cluster slurm`: prints (or with `--submit` runs) the sbatch commands of a dataset run as a
//! SLURM job array with a chained merge job (see `crate::cluster`).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::cluster::{self, SlurmPlan};
use crate::error::{Error, Result};
use crate::runtime::DeviceChoice;

/// `cluster`.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// The scheduler.
    #[command(subcommand)]
    pub scheduler: Scheduler,
}

/// The schedulers `cluster` writes jobs for.
#[derive(Debug, Subcommand)]
pub enum Scheduler {
    /// `ax --data` as a SLURM job array (one shard per task) and a merge job chained to it.
    Slurm(SlurmArgs),
}

/// `cluster slurm`.
#[derive(Debug, Args)]
pub struct SlurmArgs {
    /// The model card.
    #[arg(long)]
    pub model: PathBuf,
    /// The labelled image folder (one subfolder per class).
    #[arg(long)]
    pub data: PathBuf,
    /// The output folder: part_I.csv per task, logs/, then ax.csv and ax.summary.json.
    #[arg(long)]
    pub out: PathBuf,
    /// Array size: the number of shards.
    #[arg(long)]
    pub tasks: usize,
    /// Also run GAX on every image, up to this many steps (0: no GAX rows).
    #[arg(long, default_value_t = 0)]
    pub gax_steps: usize,
    /// Images per batch (keep it when resubmitting).
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Comma-separated methods, or all.
    #[arg(long, default_value = "all")]
    pub methods: String,
    /// A multi-label model's pathology to score, as `ax --target` (the PATHOLOGY/positive and
    /// PATHOLOGY/negative folders of --data, or --labels-csv).
    #[arg(long)]
    pub target: Option<String>,
    /// With --target: the labels CSV of `ax --labels-csv` (`image,<pathology>,...`).
    #[arg(long, requires = "target")]
    pub labels_csv: Option<PathBuf>,
    /// The partition (default: the cluster's).
    #[arg(long)]
    pub partition: Option<String>,
    /// One GPU per task (--gres=gpu:1). Without it, a GPU is asked for when `sinfo` lists GPUs
    /// in the partition.
    #[arg(long, conflicts_with = "cpu_only")]
    pub gpus: bool,
    /// Never ask for GPUs.
    #[arg(long)]
    pub cpu_only: bool,
    /// CPUs per task (the tasks' libtorch threads).
    #[arg(long, default_value_t = 4)]
    pub cpus: usize,
    /// Submit only these tasks (e.g. 2,5: failed or cancelled ones, which resume) and a new merge.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<usize>,
    /// Another sbatch option for both jobs (repeatable), e.g. --sbatch=--time=4:00:00.
    #[arg(long = "sbatch", allow_hyphen_values = true)]
    pub sbatch_args: Vec<String>,
    /// The binary the tasks run (default: this one).
    #[arg(long)]
    pub bin: Option<PathBuf>,
    /// Run sbatch instead of printing the commands.
    #[arg(long)]
    pub submit: bool,
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).map_err(|e| Error::io(p, e))
}

/// Runs `cluster …`.
pub fn run(a: &ClusterArgs, device: DeviceChoice) -> Result<()> {
    let Scheduler::Slurm(s) = &a.scheduler;
    let bin = match &s.bin {
        Some(b) => absolute(b)?,
        None => std::env::current_exe().map_err(|e| Error::io("heatmap-explorer", e))?,
    };
    let gpus = if s.gpus {
        true
    } else if s.cpu_only {
        false
    } else {
        let found = cluster::partition_has_gpus(s.partition.as_deref());
        if found.is_none() {
            eprintln!("sinfo gave no answer: no GPUs asked for (add --gpus on a GPU partition)");
        }
        found.unwrap_or(false)
    };
    let plan = SlurmPlan {
        bin,
        model: absolute(&s.model)?,
        data: absolute(&s.data)?,
        out: absolute(&s.out)?,
        tasks: s.tasks,
        only: s.only.clone(),
        batch: s.batch,
        gax_steps: s.gax_steps,
        methods: s.methods.clone(),
        target: s.target.clone(),
        labels_csv: s.labels_csv.as_deref().map(absolute).transpose()?,
        device: clap::ValueEnum::to_possible_value(&device)
            .map_or_else(|| "auto".to_owned(), |v| v.get_name().to_owned()),
        cpus: s.cpus,
        partition: s.partition.clone(),
        gpus,
        sbatch_args: s.sbatch_args.clone(),
    };
    plan.validate()?;
    if s.submit {
        let ids = plan.submit()?;
        println!(
            "array job {} (tasks {} of {}{}), merge job {}: {}",
            ids.array,
            plan.array_spec(),
            plan.tasks,
            if plan.gpus { ", one GPU each" } else { "" },
            ids.merge,
            plan.merged_csv().display()
        );
    } else {
        plan.prepare()?;
        eprintln!(
            "wrote {}; run these on the login node (or add --submit):",
            plan.script().display()
        );
        print!("{}", plan.shell());
    }
    Ok(())
}
