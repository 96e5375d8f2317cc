//! `ax --data DIR` and `merge`: dataset-wide AX with progress on stderr, the statistics table
//! on stdout.

use std::path::{Path, PathBuf};

use super::args::{AxArgs, MergeArgs};
use super::progress::Progress;
use crate::attribution::Method;
use crate::dataset::{self, RunOptions, Shard};
use crate::error::Result;
use crate::model::Model;

/// `ax --data DIR`.
pub fn ax_data(model: &Model, dir: &Path, methods: &[Method], args: &AxArgs) -> Result<()> {
    let target = match &args.label {
        Some(l) if model.info().multilabel => Some(model.info().output_index(l)?),
        Some(_) => {
            return Err(crate::error::Error::invalid(
                "--target/--label with --data names a pathology of a multi-label model; a \
                 single-label model takes its labels from the class folders",
            ));
        }
        None if args.labels_csv.is_some() => {
            return Err(crate::error::Error::invalid(
                "--labels-csv needs --target PATHOLOGY: the column of the CSV to score",
            ));
        }
        None => None,
    };
    let opts = RunOptions {
        methods: methods.to_vec(),
        batch: args.batch.max(1),
        shard: args.shard.as_deref().map(Shard::parse).transpose()?,
        out: args.out.clone().unwrap_or_else(|| PathBuf::from("ax_results.csv")),
        gax_steps: args.gax_steps,
        load: args.dicom.options(),
        overwrite: args.overwrite,
        target,
        labels_csv: args.labels_csv.clone(),
    };
    let mut bar = Progress::new("images", 0, false);
    let mut splits = 0;
    let mut report = |p: dataset::Progress| {
        if p.splits > splits {
            splits = p.splits;
            bar.note(&format!("out of memory: batch split in two and retried ({splits} so far)"));
        }
        let message = format!("{:.2} images/s, {:.0} s left", p.rate, p.eta);
        bar.set(p.done as u64, p.total as u64, &message);
    };
    let summary = dataset::run(model, dir, &opts, &mut report, &|| false)?;
    bar.finish();
    print!("{}", dataset::table(&summary));
    eprintln!(
        "rows in {}, summary in {}, run record in {}",
        opts.out.display(),
        dataset::summary_path(&opts.out).display(),
        dataset::record_path(&opts.out).display()
    );
    Ok(())
}

/// `merge --out OUT IN...`.
pub fn merge(args: &MergeArgs) -> Result<()> {
    let summary = dataset::merge_files(&args.out, &args.inputs)?;
    print!("{}", dataset::table(&summary));
    Ok(())
}
