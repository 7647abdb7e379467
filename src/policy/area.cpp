// Anchors the rt_policy object library until the area has sources of its own.
namespace robotrain::policy {}
