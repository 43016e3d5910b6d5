"""The answer key: what Adobe's back end will report for a session's events (`SessionMeter`,
`SessionRecord`), for every session a run sent, a recording holds or a collector received
(`Reporter`), rolled up by the dimensions people report on and drawn (`write_report`)."""
