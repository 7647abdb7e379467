#pragma once
// RGB8 PNG encoding through libpng (plots, rendered frames), written atomically.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace robotrain::eval {

std::string encode_png(const std::vector<uint8_t>& rgb, int width, int height);
void write_png(const std::filesystem::path& path, const std::vector<uint8_t>& rgb, int width, int height);

}  // namespace robotrain::eval
