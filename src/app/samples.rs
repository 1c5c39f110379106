//! The sample photos in `assets/samples/`, built into the binary so that the first minute
//! needs no photo of one's own (licences in `assets/samples/LICENSE.md`).

/// A bundled photo: its file name, what it is good for, and its bytes.
pub struct Sample {
    pub name: &'static str,
    pub about: &'static str,
    pub bytes: &'static [u8],
}

pub const SAMPLES: &[Sample] = &[
    Sample {
        name: "life.jpg",
        about: "a JPEG of a forest stream: restore it, or paint out a stone",
        bytes: include_bytes!("../../assets/samples/life.jpg"),
    },
    Sample {
        name: "seeding.jpg",
        about: "a JPEG of dandelions at sunset: inpaint, edit, invert on the timeline",
        bytes: include_bytes!("../../assets/samples/seeding.jpg"),
    },
];
