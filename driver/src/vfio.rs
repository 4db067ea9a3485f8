//! placeholder
pub struct VfioBackend;
pub struct VfioPaths;
