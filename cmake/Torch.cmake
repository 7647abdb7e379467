# LibTorch from PyTorch's own wheel (torch 2.10.x from PyPI, the CUDA 12.8 build), installed by
# scripts/install-deps.sh into a virtual environment outside the clone. CMake asks that
# environment's Python for torch.utils.cmake_prefix_path, as PyTorch documents for C++ users.
#
# CUDA: one runtime, the wheel's own. The wheel links libcudart.so.12, cuBLAS, cuDNN 9.10 and
# NCCL 2.27 from its nvidia-*-cu12 packages (through an $ORIGIN RPATH), so robotrain compiles
# against those packages' headers and links nothing of the machine's CUDA toolkit (CUDA 13 on
# the build machines: its libcudart.so.13 in the same process would be a second runtime).
# robotrain has no .cu sources; its CUDA code is host C++ over ATen/c10 (streams, graphs,
# autocast, NCCL), so nvcc is not needed. Caffe2's cuda.cmake would find the system toolkit,
# so torch::cudart is declared here first (that file returns when the target exists).
#
# Gloo: the wheel carries no gloo headers, which ProcessGroupGloo.hpp includes. Debian's
# libgloo-dev provides them; only the declarations are used (the implementation is the one
# inside libtorch_cpu), and the Gloo tests check that the two agree.

include(${CMAKE_CURRENT_LIST_DIR}/Venv.cmake)  # ROBOTRAIN_VENV, ROBOTRAIN_PYTHON
if(NOT EXISTS "${ROBOTRAIN_PYTHON}")
  message(FATAL_ERROR "no Python at ${ROBOTRAIN_PYTHON}: run scripts/install-deps.sh (it creates the torch "
                      "environment), or pass -DROBOTRAIN_PYTHON=/path/to/python with torch 2.10 installed")
endif()
execute_process(
  COMMAND "${ROBOTRAIN_PYTHON}" -c "import torch, torch.utils; print(torch.utils.cmake_prefix_path); print(torch.__version__)"
  OUTPUT_VARIABLE _rt_torch_out ERROR_VARIABLE _rt_torch_err RESULT_VARIABLE _rt_torch_rc
  OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _rt_torch_rc EQUAL 0)
  message(FATAL_ERROR "${ROBOTRAIN_PYTHON} cannot import torch (${_rt_torch_err}); run scripts/install-deps.sh")
endif()
string(REPLACE "\n" ";" _rt_torch_out "${_rt_torch_out}")
list(GET _rt_torch_out 0 ROBOTRAIN_TORCH_CMAKE_PREFIX)
list(GET _rt_torch_out 1 ROBOTRAIN_TORCH_VERSION)
if(NOT ROBOTRAIN_TORCH_VERSION MATCHES "^2\\.")
  message(FATAL_ERROR "torch ${ROBOTRAIN_TORCH_VERSION} at ${ROBOTRAIN_PYTHON}: robotrain needs torch 2.x (requirements.txt pins it)")
endif()
get_filename_component(ROBOTRAIN_SITE_PACKAGES "${ROBOTRAIN_TORCH_CMAKE_PREFIX}/../../.." ABSOLUTE)
message(STATUS "robotrain: torch ${ROBOTRAIN_TORCH_VERSION} from ${ROBOTRAIN_SITE_PACKAGES}")

set(ROBOTRAIN_WITH_CUDA OFF)
if(ROBOTRAIN_TORCH_VERSION MATCHES "\\+cu|^[0-9.]+$" AND EXISTS "${ROBOTRAIN_SITE_PACKAGES}/nvidia/cuda_runtime")
  set(ROBOTRAIN_WITH_CUDA ON)
  file(GLOB _rt_cuda_includes LIST_DIRECTORIES true "${ROBOTRAIN_SITE_PACKAGES}/nvidia/*/include")
  file(GLOB _rt_cudart "${ROBOTRAIN_SITE_PACKAGES}/nvidia/cuda_runtime/lib/libcudart.so.*")
  list(GET _rt_cudart 0 _rt_cudart)
  if(NOT TARGET torch::cudart)
    add_library(torch::cudart SHARED IMPORTED)
    set_target_properties(torch::cudart PROPERTIES IMPORTED_LOCATION "${_rt_cudart}"
                                                   INTERFACE_INCLUDE_DIRECTORIES "${_rt_cuda_includes}")
  endif()
endif()

list(APPEND CMAKE_PREFIX_PATH "${ROBOTRAIN_TORCH_CMAKE_PREFIX}")
# (TorchConfig warns that a static kineto is missing: the shared wheel needs none.)
find_package(Torch REQUIRED)
find_path(GLOO_INCLUDE_DIR gloo/algorithm.h REQUIRED)

add_library(rt_torch INTERFACE)
target_link_libraries(rt_torch INTERFACE ${TORCH_LIBRARIES})
# SYSTEM, and ahead of /usr/local/include: the build machines link CUDA 13's headers there.
target_include_directories(rt_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS} ${_rt_cuda_includes})
if(ROBOTRAIN_WITH_CUDA)
  target_compile_definitions(rt_torch INTERFACE ROBOTRAIN_WITH_CUDA=1 ROBOTRAIN_WITH_NCCL=1)
endif()
target_compile_definitions(rt_torch INTERFACE ROBOTRAIN_TORCH_VERSION="${ROBOTRAIN_TORCH_VERSION}")
# The wheel's libraries are built with a newer GCC and export their own copies of some libstdc++
# symbols (std::filesystem among them); the dynamic linker binds to whichever library comes first
# in DT_NEEDED order, and libtorch's copy of std::filesystem::remove_all crashed when called from
# our code. libstdc++ is therefore named first, ahead of the objects and LibTorch.
target_link_options(rt_torch INTERFACE "LINKER:--push-state,--no-as-needed" "-lstdc++" "LINKER:--pop-state")
# Executables find libtorch and, through its own RPATH, the nvidia-* runtime packages.
set(CMAKE_BUILD_RPATH "${ROBOTRAIN_TORCH_CMAKE_PREFIX}/../../lib")
