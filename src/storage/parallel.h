#pragma once
// Runs independent transfers on a few threads; the first failure stops handing out new work and
// is rethrown once the running ones finish, so a failed download never reports success.
#include <cstddef>
#include <functional>

namespace robotrain::storage {

void parallel_for_each(size_t count, int parallel, const std::function<void(size_t index)>& fn);

}  // namespace robotrain::storage
