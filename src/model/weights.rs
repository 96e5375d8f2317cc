//! Loading safetensors weights into a native model, with one error that lists every problem.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use tch::{Kind, Tensor, nn::VarStore};

use super::arch::Arch;
use crate::error::{Error, Result};

/// Copies the tensors of `path` into `vs`, mapping names through [`Arch::map_weight_name`].
/// Fails with one [`Error::Weights`] listing missing, unexpected and mis-shaped tensors.
pub fn load_safetensors(vs: &VarStore, arch: Arch, path: &Path) -> Result<()> {
    if !path.exists() {
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        ));
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext != "safetensors" {
        return Err(Error::format(
            path,
            "weights load only from .safetensors files (pickle checkpoints are never loaded); \
             convert with models/export_torchvision.py or safetensors.torch.save_file",
        ));
    }
    let named = Tensor::read_safetensors(path).map_err(|e| safetensors_error(path, &e))?;
    let vars: HashMap<String, Tensor> = vs.variables();
    let mut seen = BTreeSet::new();
    let mut unexpected = Vec::new();
    let mut misshaped = Vec::new();
    let mut assignments = Vec::new();
    let mut bad = Vec::new();
    for (name, t) in named {
        let Some(target) = arch.map_weight_name(&name) else { continue };
        match vars.get(&target) {
            None => unexpected.push(name),
            Some(v) if v.size() != t.size() => {
                misshaped.push(format!("{name}: file {:?}, model {:?}", t.size(), v.size()));
                seen.insert(target);
            }
            Some(v) => {
                seen.insert(target);
                if !all_finite(&t) {
                    bad.push(name.clone());
                }
                assignments.push((v.shallow_clone(), t));
            }
        }
    }
    check_none_bad(&bad, || format!("weights {}", path.display()), "tensors")?;
    let mut missing: Vec<_> = vars.keys().filter(|k| !seen.contains(*k)).cloned().collect();
    missing.sort();
    unexpected.sort();
    if !missing.is_empty() || !unexpected.is_empty() || !misshaped.is_empty() {
        let mut details = String::new();
        for (title, list) in
            [("missing", &missing), ("unexpected", &unexpected), ("mis-shaped", &misshaped)]
        {
            if !list.is_empty() {
                details.push_str(&format!("\n  {title} ({}): {}", list.len(), list.join(", ")));
            }
        }
        return Err(Error::Weights {
            path: path.to_owned(),
            arch: arch.name().to_owned(),
            details,
        });
    }
    tch::no_grad(|| -> Result<()> {
        for (mut v, t) in assignments {
            let t = t.f_to_kind(Kind::Float)?.f_to_device(v.device())?;
            v.f_copy_(&t)?;
        }
        Ok(())
    })
}

/// Copies every tensor of `path` whose mapped name and shape fit a variable of `vs`; the rest
/// (e.g. an ImageNet head when fine-tuning a two-class one) is skipped. Returns how many loaded.
pub fn load_matching(vs: &VarStore, arch: Arch, path: &Path) -> Result<usize> {
    let named = Tensor::read_safetensors(path).map_err(|e| safetensors_error(path, &e))?;
    let vars = vs.variables();
    let mut n = 0;
    tch::no_grad(|| -> Result<()> {
        for (name, t) in named {
            let Some(target) = arch.map_weight_name(&name) else { continue };
            if let Some(v) = vars.get(&target)
                && v.size() == t.size()
            {
                if !all_finite(&t) {
                    return Err(Error::NonFinite(format!("weights {} ({name})", path.display())));
                }
                let mut v = v.shallow_clone();
                v.f_copy_(&t.f_to_kind(Kind::Float)?.f_to_device(v.device())?)?;
                n += 1;
            }
        }
        Ok(())
    })?;
    if n == 0 {
        return Err(Error::format(path, format!("no tensor fits {}", arch.name())));
    }
    Ok(n)
}

/// The input channels of `arch`'s first convolution as stored in the safetensors file `path`
/// (read from the header alone), or `None` when the file does not hold that tensor (the full
/// load then reports it missing).
pub fn first_conv_channels(path: &Path, arch: Arch) -> Result<Option<i64>> {
    use std::io::Read as _;
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut len = [0_u8; 8];
    if f.read_exact(&mut len).is_err() {
        return Ok(None);
    }
    let n = u64::from_le_bytes(len);
    // safetensors caps its header at 100 MB.
    if n > 100_000_000 {
        return Ok(None);
    }
    let mut header = Vec::new();
    f.take(n).read_to_end(&mut header).map_err(|e| Error::io(path, e))?;
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&header) else { return Ok(None) };
    let Some(entries) = json.as_object() else { return Ok(None) };
    let shape = entries
        .iter()
        .find(|(name, _)| arch.map_weight_name(name).as_deref() == Some(arch.first_conv()))
        .and_then(|(_, v)| v["shape"].as_array().cloned());
    Ok(shape.and_then(|s| s.get(1).and_then(serde_json::Value::as_i64)))
}

/// Whether every value of `t` is finite (no NaN, no ±∞); integer tensors always are.
pub fn all_finite(t: &Tensor) -> bool {
    if !t.is_floating_point() || t.numel() == 0 {
        return true;
    }
    tch::no_grad(|| t.isfinite().all().int64_value(&[]) != 0)
}

/// An [`Error::NonFinite`] naming `what` and every entry of `bad` (tensors holding NaN or ±∞), if
/// there are any; `kind` says what the entries are ("tensors", "parameters").
pub(crate) fn check_none_bad(
    bad: &[String],
    what: impl FnOnce() -> String,
    kind: &str,
) -> Result<()> {
    if bad.is_empty() {
        return Ok(());
    }
    Err(Error::NonFinite(format!("{} ({} {kind}: {})", what(), bad.len(), bad.join(", "))))
}

/// An [`Error::NonFinite`] naming `what` when `t` holds NaN or ±∞.
pub fn check_finite(t: &Tensor, what: impl FnOnce() -> String) -> Result<()> {
    if all_finite(t) { Ok(()) } else { Err(Error::NonFinite(what())) }
}

/// A safetensors read failure as one line: libtorch's message repeats the path, which the
/// error already names.
fn safetensors_error(path: &Path, e: &tch::TchError) -> Error {
    let text = e.to_string().replace(&path.display().to_string(), "").replace(" :", ":");
    let text = text.trim_matches(|c: char| c == ':' || c.is_whitespace());
    Error::format(path, format!("not a readable safetensors file ({text})"))
}
