//! On-call rotations as pure functions: who is on call for a rotation at a time, and who is next.
//! Shifts that are whole days hand off at the local handoff time in the rotation's time zone
//! (so daylight-saving changes do not move the handoff); other shifts are fixed hours from the
//! first handoff.

use crate::error::ValidationError;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A rotation, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Rotation {
    /// E-mails, in rotation order.
    pub members: Vec<String>,
    /// Shift length in hours.
    pub shift_hours: u32,
    /// Local time of the handoff.
    pub handoff: NaiveTime,
    /// The day the first shift starts (local).
    pub start: NaiveDate,
    /// The rotation's time zone.
    pub tz: Tz,
}

/// Someone covering the rotation from `starts_at` (inclusive) to `ends_at` (exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// Who covers.
    pub email: String,
    /// From.
    pub starts_at: DateTime<Utc>,
    /// Until.
    pub ends_at: DateTime<Utc>,
}

/// Who is on call during one shift.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shift {
    /// The person.
    pub email: String,
    /// When the shift (or override) began.
    pub starts_at: DateTime<Utc>,
    /// When it ends.
    pub ends_at: DateTime<Utc>,
    /// True when an override put this person on call.
    pub overridden: bool,
}

impl Rotation {
    /// Parses and checks a rotation's settings, naming each bad field.
    pub fn parse(
        members: &[String],
        shift_hours: i64,
        handoff: &str,
        start: &str,
        tz: &str,
    ) -> Result<Self, ValidationError> {
        let mut e = ValidationError::default();
        if members.is_empty() {
            e.push("members", "needs at least one person");
        }
        if !(1..=24 * 28).contains(&shift_hours) {
            e.push("shift_hours", "must be between 1 and 672 hours");
        }
        let handoff = NaiveTime::parse_from_str(handoff.trim(), "%H:%M")
            .map_err(|_| e.push("handoff_time", "must be a time like 09:00"))
            .ok();
        let start = NaiveDate::parse_from_str(start.trim(), "%Y-%m-%d")
            .map_err(|_| e.push("start_date", "must be a date like 2026-11-30"))
            .ok();
        let tz = tz
            .trim()
            .parse::<Tz>()
            .map_err(|_| {
                e.push(
                    "time_zone",
                    "must be an IANA time zone like Europe/Paris or UTC",
                )
            })
            .ok();
        e.into_result()?;
        Ok(Self {
            members: members.to_vec(),
            shift_hours: shift_hours as u32,
            handoff: handoff.expect("checked"),
            start: start.expect("checked"),
            tz: tz.expect("checked"),
        })
    }

    /// The UTC instant of the local handoff on `day` (the later one when a DST gap or fold makes
    /// it ambiguous or missing).
    fn handoff_on(&self, day: NaiveDate) -> DateTime<Utc> {
        let local = day.and_time(self.handoff);
        match self.tz.from_local_datetime(&local) {
            chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
            chrono::LocalResult::Ambiguous(_, later) => later.with_timezone(&Utc),
            chrono::LocalResult::None => {
                self.tz
                    .from_utc_datetime(&(local - Duration::hours(1)))
                    .with_timezone(&Utc)
                    + Duration::hours(1)
            }
        }
    }

    /// The shift index containing `t` and its bounds (before the first handoff, index < 0).
    fn shift_at(&self, t: DateTime<Utc>) -> (i64, DateTime<Utc>, DateTime<Utc>) {
        if self.shift_hours.is_multiple_of(24) {
            let days = i64::from(self.shift_hours / 24);
            let local = t.with_timezone(&self.tz);
            let mut day = local.date_naive();
            if local.time() < self.handoff {
                day = day.pred_opt().unwrap_or(day);
            }
            let index = (day - self.start).num_days().div_euclid(days);
            let first = self.start + Duration::days(index * days);
            (
                index,
                self.handoff_on(first),
                self.handoff_on(first + Duration::days(days)),
            )
        } else {
            let anchor = self.handoff_on(self.start);
            let len = Duration::hours(i64::from(self.shift_hours));
            let index = (t - anchor).num_seconds().div_euclid(len.num_seconds());
            let starts = anchor + Duration::seconds(index * len.num_seconds());
            (index, starts, starts + len)
        }
    }

    fn member(&self, index: i64) -> String {
        self.members[index.rem_euclid(self.members.len() as i64) as usize].clone()
    }

    /// Who is on call at `t`: an override covering `t` wins over the rotation.
    pub fn on_call(&self, overrides: &[Override], t: DateTime<Utc>) -> Shift {
        if let Some(o) = overrides
            .iter()
            .filter(|o| o.starts_at <= t && t < o.ends_at)
            .max_by_key(|o| o.starts_at)
        {
            return Shift {
                email: o.email.clone(),
                starts_at: o.starts_at,
                ends_at: o.ends_at,
                overridden: true,
            };
        }
        let (index, starts_at, ends_at) = self.shift_at(t);
        Shift {
            email: self.member(index),
            starts_at,
            ends_at,
            overridden: false,
        }
    }

    /// Who is on call after the current shift (or override) ends.
    pub fn next(&self, overrides: &[Override], t: DateTime<Utc>) -> Shift {
        let now = self.on_call(overrides, t);
        self.on_call(overrides, now.ends_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people() -> Vec<String> {
        vec![
            "ann@example.com".into(),
            "bob@example.com".into(),
            "cat@example.com".into(),
        ]
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn weekly_shifts_hand_off_at_local_time_across_daylight_saving() {
        let r = Rotation::parse(&people(), 168, "09:00", "2026-10-19", "Europe/Paris").unwrap();
        assert_eq!(
            r.on_call(&[], at("2026-10-19T07:00:00Z")).email,
            "ann@example.com",
            "09:00 Paris is 07:00 UTC in summer time"
        );
        assert_eq!(
            r.on_call(&[], at("2026-10-19T06:59:00Z")).email,
            "cat@example.com",
            "before the first handoff the previous shift runs"
        );
        let s = r.on_call(&[], at("2026-10-27T12:00:00Z"));
        assert_eq!(s.email, "bob@example.com");
        assert_eq!(
            s.starts_at,
            at("2026-10-26T08:00:00Z"),
            "after the change to winter time 09:00 is 08:00 UTC"
        );
        assert_eq!(
            r.next(&[], at("2026-10-27T12:00:00Z")).email,
            "cat@example.com"
        );
    }

    #[test]
    fn hourly_shifts_and_overrides() {
        let r = Rotation::parse(&people(), 12, "08:00", "2026-11-01", "UTC").unwrap();
        assert_eq!(
            r.on_call(&[], at("2026-11-01T19:59:00Z")).email,
            "ann@example.com"
        );
        assert_eq!(
            r.on_call(&[], at("2026-11-01T20:00:00Z")).email,
            "bob@example.com"
        );
        let o = Override {
            email: "dan@example.com".into(),
            starts_at: at("2026-11-01T18:00:00Z"),
            ends_at: at("2026-11-01T22:00:00Z"),
        };
        let s = r.on_call(std::slice::from_ref(&o), at("2026-11-01T21:00:00Z"));
        assert!(s.overridden && s.email == "dan@example.com");
        assert_eq!(
            r.next(&[o], at("2026-11-01T21:00:00Z")).email,
            "bob@example.com",
            "the rotation resumes when the override ends"
        );
    }

    #[test]
    fn bad_settings_name_their_fields() {
        let e = Rotation::parse(&[], 0, "9am", "soon", "Mars/Olympus").unwrap_err();
        let fields: Vec<_> = e.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "members",
                "shift_hours",
                "handoff_time",
                "start_date",
                "time_zone"
            ]
        );
    }
}
