//! The time a running job still needs, from how long it has run and how much of it is done.

use std::time::Duration;

/// "about 40 s left" for a job `fraction` done after `elapsed`, assuming the rest goes at the
/// same pace; `None` until there is enough to go on (under 2 % done or under a second run).
pub fn time_left(elapsed: Duration, fraction: f32) -> Option<String> {
    let run = elapsed.as_secs_f32();
    if !(0.02..1.0).contains(&fraction) || run < 1.0 {
        return None;
    }
    let left = run * (1.0 - fraction) / fraction;
    Some(if left < 90.0 {
        format!("about {:.0} s left", left.max(1.0))
    } else {
        format!("about {:.0} min left", left / 60.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rest_goes_at_the_pace_so_far() {
        let s = Duration::from_secs;
        assert_eq!(time_left(s(10), 0.25).as_deref(), Some("about 30 s left"));
        assert_eq!(time_left(s(60), 0.2).as_deref(), Some("about 4 min left"));
        // Too early to tell, or done.
        assert_eq!(time_left(s(10), 0.01), None);
        assert_eq!(time_left(Duration::from_millis(300), 0.5), None);
        assert_eq!(time_left(s(10), 1.0), None);
    }
}
