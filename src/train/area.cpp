// Anchors the rt_train object library until the area has sources of its own.
namespace robotrain::train {}
