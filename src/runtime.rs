//! Device choice, thread count and the facts `heatmap-explorer info` prints.

use tch::Device;

use crate::error::{Error, Result};

/// Which device the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DeviceChoice {
    /// CUDA when available, else CPU.
    #[default]
    Auto,
    /// Always the CPU.
    Cpu,
    /// CUDA device 0; an error when there is none.
    Cuda,
}

impl DeviceChoice {
    /// Resolves the choice to a tch device, failing when CUDA is asked for and absent.
    pub fn resolve(self) -> Result<Device> {
        match self {
            Self::Auto => Ok(Device::cuda_if_available()),
            Self::Cpu => Ok(Device::Cpu),
            Self::Cuda => {
                if tch::Cuda::is_available() {
                    Ok(Device::Cuda(0))
                } else {
                    Err(Error::invalid(
                        "--device cuda was asked for, but CUDA is not available on this machine \
                         (no GPU or no driver); use --device cpu or auto",
                    ))
                }
            }
        }
    }
}

/// Sets libtorch's intra-op thread count when the user gave one.
pub fn set_threads(threads: Option<usize>) -> Result<()> {
    if let Some(n) = threads {
        if n == 0 {
            return Err(Error::invalid("--threads must be at least 1"));
        }
        let n = i32::try_from(n).map_err(|_| Error::invalid("--threads is too large"))?;
        tch::set_num_threads(n);
    }
    Ok(())
}

/// Makes glibc keep freed memory for reuse instead of returning it to the kernel at once.
///
/// GAX streams every step's heatmaps (25 MB a step at batch 64 and 256×256) through fresh
/// per-image buffers. With glibc's defaults those are trimmed from the heap when freed and
/// faulted in again the next step, which cost more than the step itself on the GPU (41 against
/// 12 ms per AlexNet step at batch 64 on an H200, BENCHMARKS.md). Called once at start-up.
#[allow(unsafe_code)]
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters; these values are within glibc's
        // accepted ranges (the mmap threshold's maximum is 32 MiB on 64-bit targets).
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        }
    }
}

/// The libtorch version this binary is linked against, as the torch wheel reports it.
pub const LIBTORCH_VERSION: &str = "2.11.0";

/// A human-readable description of a device: GPU name and memory, or CPU and thread count.
pub fn describe_device(device: Device) -> String {
    match device {
        Device::Cuda(i) => {
            let (name, mem) = cuda_name_and_memory(i);
            format!("cuda:{i} ({name}, {mem})")
        }
        _ => format!("cpu ({} threads)", tch::get_num_threads()),
    }
}

fn cuda_name_and_memory(index: usize) -> (String, String) {
    // tch has no device-properties call; torch.cuda's Python-side helpers are not reachable
    // from Rust, so the name comes from nvidia-smi when present.
    let out = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=name,memory.total", "--format=csv,noheader", &format!("--id={index}")])
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let line = String::from_utf8_lossy(&o.stdout).trim().to_owned();
            let mut parts = line.splitn(2, ',');
            let name = parts.next().unwrap_or("GPU").trim().to_owned();
            let mem = parts.next().unwrap_or("unknown memory").trim().to_owned();
            (name, mem)
        }
        _ => ("GPU".to_owned(), "memory unknown".to_owned()),
    }
}

/// The lines `heatmap-explorer info` prints.
pub fn info_lines(device: Device) -> Vec<String> {
    vec![
        format!("heatmap-explorer {}", env!("CARGO_PKG_VERSION")),
        format!("libtorch {LIBTORCH_VERSION}"),
        format!("cuda available: {}", tch::Cuda::is_available()),
        format!("cuda devices: {}", tch::Cuda::device_count()),
        format!("cudnn available: {}", tch::Cuda::cudnn_is_available()),
        format!("device: {}", describe_device(device)),
        format!("threads: {}", tch::get_num_threads()),
    ]
}
