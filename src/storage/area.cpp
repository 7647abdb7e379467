// Anchors the rt_storage object library until the area has sources of its own.
namespace robotrain::storage {}
