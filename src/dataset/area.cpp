// Anchors the rt_dataset object library until the area has sources of its own.
namespace robotrain::dataset {}
