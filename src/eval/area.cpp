// Anchors the rt_eval object library until the area has sources of its own.
namespace robotrain::eval {}
