#pragma once
// SIGTERM / SIGINT during training: the first one asks the loop to finish its current step,
// write a final checkpoint and end the run as killed; a second SIGINT ends the process at
// once (the default action), for an impatient Ctrl-C.
namespace robotrain::train {

class StopSignals {
 public:
  StopSignals();   // installs the handlers
  ~StopSignals();  // restores the previous ones
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  // 0 while no stop was requested, else the signal number.
  static int requested();
  // For tests and for a worker that wants the loop to stop as if signalled.
  static void request(int signal);
};

}  // namespace robotrain::train
