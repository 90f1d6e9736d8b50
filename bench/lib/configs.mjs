// The configurations of a full run, their targets (issue 11), and the cost-model sizes.
//
// Message counts are sized so the slowest server needs a few seconds per run; --quick shrinks
// them. `members` is the room size the chart plots the cost per message against.

export function configs(quick) {
  const Q = quick;
  return [
    {
      id: '10m-1s',
      chartLabel: ['10 members', '1 sender', 'RAM disk'],
      title: '10 members, 1 sender, RAM-disk state',
      members: 10,
      args: { members: 10, senders: 1, messages: Q ? 8000 : 30000, window: 32 },
      target: { metric: 'dps', baseline: 1.5, goal: 2 },
    },
    {
      id: '100m-10s',
      chartLabel: ['100 members', '10 senders'],
      title: '100 members, 10 senders',
      members: 100,
      args: { members: 100, senders: 10, messages: Q ? 150 : 600, window: 16 },
      target: { metric: 'dps', baseline: 2, goal: 3 },
    },
    {
      id: '500m-10s',
      chartLabel: ['500 members', '10 senders'],
      title: '500 members, 10 senders',
      members: 500,
      args: { members: 500, senders: 10, messages: Q ? 30 : 60, window: 16 },
      target: { metric: 'dps', baseline: 1.5, goal: 2 },
    },
    {
      id: '10r-50m',
      chartLabel: ['10 rooms × 50', '5 senders each'],
      title: '10 rooms × 50 members (5 senders each), all at once',
      members: 50,
      args: { rooms: 10, members: 50, senders: 5, messages: Q ? 40 : 100, window: 16 },
      target: { metric: 'dps', baseline: 1.5, goal: 2 },
    },
    {
      id: '10m-1s-disk',
      chartLabel: ['10 members', '1 sender', 'state on disk'],
      title: '10 members, 1 sender, state on disk',
      storage: 'disk',
      args: { members: 10, senders: 1, messages: Q ? 3000 : 10000, window: 32 },
      target: { metric: 'dps', baseline: 2, goal: 3 },
    },
    {
      // 10 senders × 10 msg/s × 100 members = 10,000 deliveries/s: the p99 and the p50 targets.
      id: 'rate-10k',
      title: 'fixed 10k deliveries/s: 100 members, 10 senders × 10 msg/s',
      args: { members: 100, senders: 10, rate: 10000, duration: Q ? 6 : 15, warmup: 2 },
      target: { metric: 'latency' },
    },
    {
      // Default join timeout (10 s). The ceilings announce joins here, as chat does.
      id: 'join-1000',
      title: '1000 members join at once (32 connects in flight), then 5 senders',
      ceilingJoins: true,
      args: {
        members: 1000,
        senders: 5,
        messages: Q ? 10 : 30,
        window: 16,
        'connect-concurrency': 32,
        'join-storm': true,
        presence: true,
        'join-timeout': 60,
      },
      target: { metric: 'join', baseline: 0.3, goalMs: 2000 },
    },
  ];
}

// Cost model (--profile): one sender, closed loop, these room sizes.
export const PROFILE_MEMBERS = [1, 10, 50, 200];
