// SIOReplay: recordings played back.
//
// - `replay serve`: a mock Socket.IO server that answers live clients the way the recorded
//   server did (Engine.IO v3/v4, polling and WebSocket, heartbeats generated live).
// - `replay run`: a client that reconnects every recorded client session to a live server and
//   reports where today's answers differ from the recording.
//
// Both read a recording into a `ReplayScript` (per session, the Socket.IO packets of both
// directions and what each server packet answered) and do their I/O with SwiftNIO.
