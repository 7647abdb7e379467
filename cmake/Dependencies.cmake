# Every dependency but LibTorch comes from Debian 12 packages; LibTorch is PyTorch's own wheel
# from PyPI (cmake/Torch.cmake). scripts/install-deps.sh installs both.
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
# Parquet's LZ4/LZ4_RAW and BROTLI codecs (Debian's liblz4-dev, libbrotli-dev).
pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)
pkg_check_modules(BROTLI REQUIRED IMPORTED_TARGET libbrotlidec libbrotlienc)
find_package(PNG REQUIRED)
find_package(pugixml REQUIRED)  # the Blob listing XML
find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
if(NOT ROBOTRAIN_TORCH_FREE)  # (cmake/Sanitizers.cmake)
  find_package(box2d REQUIRED)
  include(${CMAKE_CURRENT_LIST_DIR}/Torch.cmake)
endif()

# glibc returns big freed blocks to the OS after every step unless told not to (main.cpp's
# mallopt); jemalloc keeps them too. ROBOTRAIN_USE_JEMALLOC links it into every executable.
option(ROBOTRAIN_USE_JEMALLOC "Link jemalloc into robotrain and the tests" OFF)
find_library(JEMALLOC_LIBRARY NAMES jemalloc)
