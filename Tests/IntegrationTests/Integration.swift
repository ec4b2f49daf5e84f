import Testing

/// Parent of every integration suite: they start real daemons, so they run one at a time.
@Suite(.serialized)
enum Integration {}
