// Anchors the rt_track object library until the area has sources of its own.
namespace robotrain::track {}
