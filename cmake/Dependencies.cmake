# Every dependency comes from Debian 12 packages (see scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(FFMPEG REQUIRED IMPORTED_TARGET libavformat libavcodec libswscale libavutil)
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(zstd REQUIRED)
find_package(Snappy REQUIRED)
find_package(ZLIB REQUIRED)
find_package(PNG REQUIRED)
find_package(box2d REQUIRED)
find_package(Torch REQUIRED)
find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)

# LibTorch's exported flags add -D_GLIBCXX_USE_CXX11_ABI and include dirs; we take the
# imported target but not its global CMAKE_CXX_FLAGS changes.
add_library(rt_torch INTERFACE)
target_link_libraries(rt_torch INTERFACE ${TORCH_LIBRARIES})
target_include_directories(rt_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})

# glibc returns big freed blocks to the OS after every step unless told not to (main.cpp's
# mallopt); jemalloc keeps them too. ROBOTRAIN_USE_JEMALLOC links it into every executable.
option(ROBOTRAIN_USE_JEMALLOC "Link jemalloc into robotrain and the tests" OFF)
find_library(JEMALLOC_LIBRARY NAMES jemalloc)
