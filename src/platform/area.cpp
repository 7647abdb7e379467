// Anchors the rt_platform object library until the area has sources of its own.
namespace robotrain::platform {}
