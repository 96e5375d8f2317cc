// CUDA-graph capture and replay of one GAX step, reached from Rust (src/gax/cuda_graph.rs) over a
// C ABI. tch has no graph API; libtorch's at::cuda::CUDAGraph records every kernel that the Rust
// side launches (through tch) on this thread's current stream between begin and end.
#include <ATen/cuda/CUDAGraph.h>
#include <c10/core/Event.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>

struct HxGraph {
  at::cuda::CUDAGraph graph;
  // The stream that was current before hx_graph_enter switched this thread to a side stream:
  // capture is not allowed on the default stream, and warm-up runs on the side stream too, as
  // torch.cuda.graph does. Only exported c10_cuda functions are called (no CUDAStreamGuard),
  // so nothing here links against cudart directly.
  std::optional<c10::cuda::CUDAStream> previous;
  c10::DeviceIndex device = 0;
};

// A second stream for device-to-host copies, so that a step's readout is copied while the next
// step computes. c10::Event reaches CUDA through c10's device-guard registry, so this needs no
// cudart link either.
struct HxCopyStream {
  c10::cuda::CUDAStream copy;
  std::optional<c10::cuda::CUDAStream> compute;
  c10::Event ready{c10::DeviceType::CUDA};
  c10::DeviceIndex device;
};

namespace {
// Runs `f`, turning an exception into an owned error string (null for success): exceptions must
// not cross the C ABI into Rust.
template <typename F>
char* guarded(F f) {
  try {
    f();
    return nullptr;
  } catch (const std::exception& e) {
    return strdup(e.what() != nullptr ? e.what() : "unknown C++ exception");
  } catch (...) {
    return strdup("unknown C++ exception");
  }
}
}  // namespace

extern "C" {

HxGraph* hx_graph_new(int device) {
  try {
    auto* g = new HxGraph();
    g->device = static_cast<c10::DeviceIndex>(device);
    return g;
  } catch (...) {
    return nullptr;
  }
}

void hx_graph_free(HxGraph* g) { delete g; }

void hx_error_free(char* e) { free(e); }

// Makes a pool stream current on this thread, after the work already queued has finished
// (a full wait, but this runs once per capture).
char* hx_graph_enter(HxGraph* g) {
  return guarded([g] {
    c10::cuda::device_synchronize();
    g->previous.emplace(c10::cuda::getCurrentCUDAStream(g->device));
    c10::cuda::setCurrentCUDAStream(c10::cuda::getStreamFromPool(false, g->device));
  });
}

// Restores the previous stream once everything queued on the side stream has finished.
char* hx_graph_leave(HxGraph* g) {
  return guarded([g] {
    if (!g->previous) {
      return;
    }
    c10::cuda::device_synchronize();
    c10::cuda::setCurrentCUDAStream(*g->previous);
    g->previous.reset();
  });
}

char* hx_graph_capture_begin(HxGraph* g) {
  return guarded([g] { g->graph.capture_begin(); });
}

char* hx_graph_capture_end(HxGraph* g) {
  return guarded([g] { g->graph.capture_end(); });
}

// Launches the captured step on the current stream.
char* hx_graph_replay(HxGraph* g) {
  return guarded([g] { g->graph.replay(); });
}

HxCopyStream* hx_copy_new(int device) {
  try {
    auto index = static_cast<c10::DeviceIndex>(device);
    return new HxCopyStream{c10::cuda::getStreamFromPool(false, index), std::nullopt, c10::Event(c10::DeviceType::CUDA), index};
  } catch (...) {
    return nullptr;
  }
}

void hx_copy_free(HxCopyStream* c) { delete c; }

// Marks the point on this thread's current stream that the next copies must wait for.
char* hx_copy_mark(HxCopyStream* c) {
  return guarded([c] { c->ready.record(c10::cuda::getCurrentCUDAStream(c->device)); });
}

// Makes the copy stream current, ordered after the last mark.
char* hx_copy_enter(HxCopyStream* c) {
  return guarded([c] {
    c->compute.emplace(c10::cuda::getCurrentCUDAStream(c->device));
    c->ready.block(c->copy);
    c10::cuda::setCurrentCUDAStream(c->copy);
  });
}

// Makes the stream that was current before hx_copy_enter current again.
char* hx_copy_leave(HxCopyStream* c) {
  return guarded([c] {
    if (c->compute) {
      c10::cuda::setCurrentCUDAStream(*c->compute);
      c->compute.reset();
    }
  });
}

}  // extern "C"
