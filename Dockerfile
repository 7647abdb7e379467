# robotrain job image: the robotrain binary with LibTorch (CUDA) and FFmpeg, no Python.
# Azure ML and OSMO jobs run `robotrain train ...` inside it (see docs/platforms.md).
#   docker build -t <registry>/robotrain:0.1.0-cuda .
#   docker push <registry>/robotrain:0.1.0-cuda
#   robotrain submit azureml -i <registry>/robotrain:0.1.0-cuda ...
ARG CUDA_IMAGE=nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04
ARG CUDA_RUNTIME_IMAGE=nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04

FROM ${CUDA_IMAGE} AS build
ARG LIBTORCH_URL=https://download.pytorch.org/libtorch/cu124/libtorch-cxx11-abi-shared-with-deps-2.4.1%2Bcu124.zip
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config curl unzip ca-certificates \
      libavformat-dev libavcodec-dev libswscale-dev libavutil-dev \
      libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev \
      libzstd-dev libsnappy-dev zlib1g-dev libpng-dev libbox2d-dev libjemalloc-dev git \
 && rm -rf /var/lib/apt/lists/*
# CLI11 (header-only) is not packaged on Ubuntu 22.04 with a CMake config: fetch its release header.
RUN mkdir -p /usr/local/include/CLI && curl -fsSL -o /usr/local/include/CLI/CLI.hpp \
      https://github.com/CLIUtils/CLI11/releases/download/v2.4.2/CLI11.hpp
RUN curl -fsSL -o /tmp/libtorch.zip "${LIBTORCH_URL}" && unzip -q /tmp/libtorch.zip -d /opt && rm /tmp/libtorch.zip
COPY . /src
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DROBOTRAIN_BUILD_TESTS=OFF \
      -DCMAKE_PREFIX_PATH=/opt/libtorch -DROBOTRAIN_TORCH_PCH=OFF \
 && cmake --build /build --target robotrain_cli

FROM ${CUDA_RUNTIME_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends \
      libavformat58 libavcodec58 libswscale5 libcurl4 libyaml-cpp0.7 libzstd1 libsnappy1v5 \
      libpng16-16 libbox2d2 libjemalloc2 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/libtorch/lib /opt/libtorch/lib
COPY --from=build /build/bin/robotrain /usr/local/bin/robotrain
ENV LD_LIBRARY_PATH=/opt/libtorch/lib
ENTRYPOINT []
CMD ["robotrain", "--help"]
