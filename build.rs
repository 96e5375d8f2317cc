//! Build script: gives the binary an rpath to the torch wheel's lib directory, keeps
//! libtorch_cuda.so as a needed library, so CUDA is used whenever the machine has a GPU, and
//! compiles the CUDA-graph shim (`src/gax/cuda_graph.cpp`) where libtorch has CUDA and the CUDA
//! runtime headers are present (the torch wheel's `nvidia` packages carry them).

use std::path::{Path, PathBuf};
use std::process::Command;

fn torch_lib_dir() -> Option<PathBuf> {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-env-changed=LIBTORCH_LIB");
    println!("cargo:rerun-if-env-changed=VIRTUAL_ENV");
    if let Ok(lib) = std::env::var("LIBTORCH_LIB") {
        return Some(PathBuf::from(lib));
    }
    if let Ok(root) = std::env::var("LIBTORCH") {
        return Some(PathBuf::from(root).join("lib"));
    }
    let python = if std::env::var_os("VIRTUAL_ENV").is_some() { "python" } else { "python3" };
    let out = Command::new(python)
        .args([
            "-c",
            "import torch, os; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    dir.is_dir().then_some(dir)
}

/// Include directories for the CUDA runtime headers: `CUDA_HOME`, the wheel's `nvidia` packages
/// next to torch, /usr/local/cuda, and, for the `crt/` headers the runtime package leaves out,
/// the copy triton (a torch dependency) ships.
fn cuda_include_dirs(torch_lib: &Path) -> Option<Vec<PathBuf>> {
    println!("cargo:rerun-if-env-changed=CUDA_HOME");
    let site = torch_lib.parent()?.parent()?;
    let mut candidates: Vec<PathBuf> = std::env::var_os("CUDA_HOME")
        .map(|h| PathBuf::from(h).join("include"))
        .into_iter()
        .collect();
    for pkg in ["cu13", "cuda_runtime"] {
        candidates.push(site.join("nvidia").join(pkg).join("include"));
    }
    candidates.push(PathBuf::from("/usr/local/cuda/include"));
    candidates.push(site.join("triton/backends/nvidia/include"));
    let runtime = candidates.iter().find(|d| d.join("cuda_runtime_api.h").is_file())?.clone();
    let crt = candidates.into_iter().find(|d| d.join("crt/host_config.h").is_file())?;
    Some(if crt == runtime { vec![runtime] } else { vec![runtime, crt] })
}

/// Compiles the CUDA-graph shim against the torch headers; returns whether it was built.
fn build_cuda_graph_shim(torch_lib: &Path) -> bool {
    println!("cargo:rerun-if-changed=src/gax/cuda_graph.cpp");
    let torch_include = torch_lib.with_file_name("include");
    let Some(cuda_include) = cuda_include_dirs(torch_lib) else {
        println!("cargo:warning=CUDA runtime headers not found; GAX runs without CUDA graphs");
        return false;
    };
    if !torch_include.join("ATen/cuda/CUDAGraph.h").is_file() {
        return false;
    }
    let built = cc::Build::new()
        .cpp(true)
        .file("src/gax/cuda_graph.cpp")
        .include(&torch_include)
        .include(torch_include.join("torch/csrc/api/include"))
        .includes(cuda_include)
        .flag("-std=c++17")
        .define("_GLIBCXX_USE_CXX11_ABI", "1")
        .warnings(false)
        .flag_if_supported("-w")
        .try_compile("hx_cuda_graph");
    // A shim that does not compile costs the graph engine, not the build.
    if let Err(e) = built {
        println!(
            "cargo:warning=the CUDA-graph shim did not compile ({e}); GAX runs without CUDA graphs"
        );
        return false;
    }
    println!("cargo:rustc-link-search=native={}", torch_lib.display());
    for lib in ["torch_cuda", "c10_cuda", "torch_cpu", "c10"] {
        println!("cargo:rustc-link-lib=dylib={lib}");
    }
    true
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(hx_cuda_graph)");
    let Some(lib) = torch_lib_dir() else {
        println!(
            "cargo:warning=torch lib directory not found; the binary will need LD_LIBRARY_PATH"
        );
        return;
    };
    let has_cuda = lib.join("libtorch_cuda.so").exists();
    if has_cuda && std::env::var_os("HX_NO_CUDA_GRAPH").is_none() && build_cuda_graph_shim(&lib) {
        println!("cargo:rustc-cfg=hx_cuda_graph");
    }
    println!("cargo:rerun-if-env-changed=HX_NO_CUDA_GRAPH");
    let lib = lib.display();
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    if has_cuda {
        println!("cargo:rustc-link-arg-bins=-L{lib}");
        println!("cargo:rustc-link-arg-bins=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
