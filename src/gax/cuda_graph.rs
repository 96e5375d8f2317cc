//! Safe handles on the C++ CUDA shim (`cuda_graph.cpp`): a graph that captures the kernels a
//! closure launches once and replays them, and a copy stream that runs a closure's copies
//! beside the compute stream. Compiled only where libtorch has CUDA and its headers were found
//! at build time (`hx_cuda_graph`); elsewhere every call says so.

use crate::error::{Error, Result};

/// Whether this binary can capture CUDA graphs.
pub const AVAILABLE: bool = cfg!(hx_cuda_graph);

#[cfg(hx_cuda_graph)]
#[allow(unsafe_code)]
mod ffi {
    use std::ffi::{CStr, c_char, c_int};

    #[repr(C)]
    pub struct HxGraph {
        _private: [u8; 0],
    }

    #[repr(C)]
    pub struct HxCopyStream {
        _private: [u8; 0],
    }

    unsafe extern "C" {
        pub fn hx_graph_new(device: c_int) -> *mut HxGraph;
        pub fn hx_graph_free(g: *mut HxGraph);
        pub fn hx_error_free(e: *mut c_char);
        pub fn hx_graph_enter(g: *mut HxGraph) -> *mut c_char;
        pub fn hx_graph_leave(g: *mut HxGraph) -> *mut c_char;
        pub fn hx_graph_capture_begin(g: *mut HxGraph) -> *mut c_char;
        pub fn hx_graph_capture_end(g: *mut HxGraph) -> *mut c_char;
        pub fn hx_graph_replay(g: *mut HxGraph) -> *mut c_char;
        pub fn hx_copy_new(device: c_int) -> *mut HxCopyStream;
        pub fn hx_copy_free(c: *mut HxCopyStream);
        pub fn hx_copy_mark(c: *mut HxCopyStream) -> *mut c_char;
        pub fn hx_copy_enter(c: *mut HxCopyStream) -> *mut c_char;
        pub fn hx_copy_leave(c: *mut HxCopyStream) -> *mut c_char;
    }

    /// Turns a returned error string (owned by C++, null for success) into a Rust result.
    pub fn check(e: *mut c_char) -> std::result::Result<(), String> {
        if e.is_null() {
            return Ok(());
        }
        // SAFETY: a non-null return is a NUL-terminated string from strdup, freed once here.
        let text = unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned();
        // SAFETY: as above; the pointer is not used again.
        unsafe { hx_error_free(e) };
        Err(text)
    }
}

/// One captured CUDA graph on one device.
#[derive(Debug)]
pub struct CudaGraph {
    #[cfg(hx_cuda_graph)]
    raw: std::ptr::NonNull<ffi::HxGraph>,
}

/// A stream for device-to-host copies that overlap the compute stream's work.
#[derive(Debug)]
pub struct CopyStream {
    #[cfg(hx_cuda_graph)]
    raw: std::ptr::NonNull<ffi::HxCopyStream>,
}

fn failed(what: &str, why: &str) -> Error {
    Error::invalid(format!("CUDA {what} failed: {why}"))
}

#[cfg(not(hx_cuda_graph))]
const NOT_BUILT: &str = "this binary was built without CUDA-graph support \
                         (no libtorch_cuda or CUDA headers at build time)";

#[cfg(hx_cuda_graph)]
fn device_index(device: usize) -> Result<std::ffi::c_int> {
    std::ffi::c_int::try_from(device).map_err(|_| failed("setup", "device index too large"))
}

#[cfg(hx_cuda_graph)]
#[allow(unsafe_code)]
impl CudaGraph {
    /// Runs `warm_up` on a side stream, then captures what `step` launches, and returns the
    /// graph. The caller resets whatever state the warm-up changed.
    pub fn capture(
        device: usize,
        warm_up: &mut dyn FnMut() -> Result<()>,
        step: &mut dyn FnMut() -> Result<()>,
    ) -> Result<Self> {
        let index = device_index(device)?;
        // SAFETY: hx_graph_new has no preconditions; null means allocation failed.
        let raw = std::ptr::NonNull::new(unsafe { ffi::hx_graph_new(index) })
            .ok_or_else(|| failed("graph setup", "out of memory"))?;
        let graph = Self { raw };
        let p = graph.raw.as_ptr();
        // SAFETY: `p` is a live handle owned by `graph` for every call below.
        ffi::check(unsafe { ffi::hx_graph_enter(p) })
            .map_err(|e| failed("graph stream setup", &e))?;
        let captured = (|| {
            warm_up()?;
            // SAFETY: as above.
            ffi::check(unsafe { ffi::hx_graph_capture_begin(p) })
                .map_err(|e| failed("graph capture", &e))?;
            let inner = step();
            // Capture must end even when the step failed, or the stream stays in capture mode.
            // SAFETY: as above.
            let end = ffi::check(unsafe { ffi::hx_graph_capture_end(p) })
                .map_err(|e| failed("graph capture", &e));
            inner.and(end)
        })();
        // SAFETY: as above.
        let left = ffi::check(unsafe { ffi::hx_graph_leave(p) })
            .map_err(|e| failed("graph stream restore", &e));
        captured.and(left)?;
        Ok(graph)
    }

    /// Launches the captured kernels once on the current stream.
    pub fn replay(&self) -> Result<()> {
        // SAFETY: the handle is live for as long as `self`.
        ffi::check(unsafe { ffi::hx_graph_replay(self.raw.as_ptr()) })
            .map_err(|e| failed("graph replay", &e))
    }
}

#[cfg(hx_cuda_graph)]
#[allow(unsafe_code)]
impl Drop for CudaGraph {
    fn drop(&mut self) {
        // SAFETY: the handle came from hx_graph_new and is freed exactly once.
        unsafe { ffi::hx_graph_free(self.raw.as_ptr()) };
    }
}

#[cfg(hx_cuda_graph)]
#[allow(unsafe_code)]
impl CopyStream {
    /// A pool stream on `device`.
    pub fn new(device: usize) -> Result<Self> {
        let index = device_index(device)?;
        // SAFETY: hx_copy_new has no preconditions; null means it failed.
        let raw = std::ptr::NonNull::new(unsafe { ffi::hx_copy_new(index) })
            .ok_or_else(|| failed("copy-stream setup", "no stream"))?;
        Ok(Self { raw })
    }

    /// Marks the work queued so far on the current stream: what [`Self::run`] launches next
    /// waits for it, and for nothing queued after.
    pub fn mark(&self) -> Result<()> {
        // SAFETY: the handle is live for as long as `self`.
        ffi::check(unsafe { ffi::hx_copy_mark(self.raw.as_ptr()) })
            .map_err(|e| failed("copy-stream mark", &e))
    }

    /// Runs `f` with the copy stream current, ordered after the last [`Self::mark`].
    pub fn run<R>(&self, f: impl FnOnce() -> Result<R>) -> Result<R> {
        let p = self.raw.as_ptr();
        // SAFETY: the handle is live for as long as `self`.
        ffi::check(unsafe { ffi::hx_copy_enter(p) }).map_err(|e| failed("copy stream", &e))?;
        let out = f();
        // The compute stream must come back even when `f` failed.
        // SAFETY: as above.
        let left =
            ffi::check(unsafe { ffi::hx_copy_leave(p) }).map_err(|e| failed("copy stream", &e));
        out.and_then(|r| left.map(|()| r))
    }
}

#[cfg(hx_cuda_graph)]
#[allow(unsafe_code)]
impl Drop for CopyStream {
    fn drop(&mut self) {
        // SAFETY: the handle came from hx_copy_new and is freed exactly once.
        unsafe { ffi::hx_copy_free(self.raw.as_ptr()) };
    }
}

#[cfg(not(hx_cuda_graph))]
impl CopyStream {
    /// Always an error: this binary was built without the CUDA shim.
    pub fn new(_device: usize) -> Result<Self> {
        Err(failed("copy stream", NOT_BUILT))
    }

    /// Never reached: no copy stream can be made.
    pub fn mark(&self) -> Result<()> {
        Err(failed("copy-stream mark", NOT_BUILT))
    }

    /// Never reached: no copy stream can be made.
    pub fn run<R>(&self, _f: impl FnOnce() -> Result<R>) -> Result<R> {
        Err(failed("copy stream", NOT_BUILT))
    }
}

#[cfg(not(hx_cuda_graph))]
impl CudaGraph {
    /// Always an error: this binary was built without the CUDA-graph shim.
    pub fn capture(
        _device: usize,
        _warm_up: &mut dyn FnMut() -> Result<()>,
        _step: &mut dyn FnMut() -> Result<()>,
    ) -> Result<Self> {
        Err(failed("graph capture", NOT_BUILT))
    }

    /// Never reached: no graph can be made.
    pub fn replay(&self) -> Result<()> {
        Err(failed("graph replay", NOT_BUILT))
    }
}
