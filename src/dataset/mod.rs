//! Dataset-wide AX: CO scores over a labelled image folder, split by correct vs wrong.

use std::path::Path;

use crate::attribution::Method;
use crate::cli::args::AxArgs;
use crate::error::{Error, Result};
use crate::model::Model;

/// `ax --data DIR`.
pub fn run_cli(_model: &Model, dir: &Path, _methods: &[Method], _args: &AxArgs) -> Result<()> {
    Err(Error::invalid(format!("ax --data {}: dataset evaluation is not built yet", dir.display())))
}
