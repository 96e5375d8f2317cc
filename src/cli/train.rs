//! `train`: fine-tune with the paper's protocol, validation progress on stderr, the Table 1 row
//! on stdout.

use super::args::TrainArgs;
use super::progress::Progress;
use crate::error::Result;
use crate::model::Arch;
use crate::runtime::DeviceChoice;
use crate::train::{self, TrainOptions, TrainProgress};

/// `train`.
pub fn run(a: TrainArgs, device: DeviceChoice) -> Result<()> {
    let opts = TrainOptions {
        arch: Arch::parse(&a.arch)?,
        data: a.data,
        out: a.out,
        name: a.name,
        target_val_acc: a.target_val_acc,
        min_iter: a.min_iter,
        max_iter: a.max_iter,
        eval_every: a.eval_every,
        batch: a.batch,
        lr: a.lr,
        seed: a.seed,
        input_size: [a.size, a.size],
        normalize: a.normalize,
        init: a.init,
        head_bias: a.head_bias,
        warmup: a.warmup,
        command: std::env::args().collect::<Vec<_>>().join(" "),
    };
    let max = opts.max_iter as u64;
    let mut bar = Progress::new("iterations", max, false);
    let mut progress = |p: &TrainProgress| match *p {
        TrainProgress::Validated { iteration, .. } => {
            bar.set(iteration as u64, max, &p.to_string())
        }
        TrainProgress::KeptBest { .. } => bar.note(&p.to_string()),
    };
    let report = train::train(&opts, device.resolve()?, &mut progress)?;
    bar.finish();
    print!("{}", train::table(&opts.name, &report));
    eprintln!("card {} after {} iterations", report.card.display(), report.iterations);
    Ok(())
}
