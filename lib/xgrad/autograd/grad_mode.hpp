#pragma once
// Per-thread switches that change what the tape does: recording on/off and anomaly checks.

namespace xg {

/// Whether ops on this thread record to the tape (true unless a NoGradGuard is alive).
bool grad_enabled();

/// While alive, ops on this thread record nothing (evaluation, optimizer updates).
class NoGradGuard {
public:
    NoGradGuard();
    ~NoGradGuard();
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

private:
    bool previous_;
};

/// While alive, ops on this thread record (when `on`) or not, whatever the enclosing guards say:
/// a walk with create_graph records its rules even inside a NoGradGuard.
class GradModeGuard {
public:
    explicit GradModeGuard(bool on);
    ~GradModeGuard();
    GradModeGuard(const GradModeGuard&) = delete;
    GradModeGuard& operator=(const GradModeGuard&) = delete;

private:
    bool previous_;
};

/// Whether every op output and gradient on this thread is checked for NaN/Inf.
bool anomaly_detection_enabled();
/// Turns anomaly detection on or off for this thread: the first op whose output or gradient
/// holds NaN or Inf throws NumericError naming the op and its scope.
void set_anomaly_detection(bool on);

/// While alive, anomaly detection on this thread is on (or off, when `on` is false); the previous
/// setting comes back however the scope is left (PyTorch's detect_anomaly()).
class AnomalyDetectionGuard {
public:
    explicit AnomalyDetectionGuard(bool on = true);
    ~AnomalyDetectionGuard();
    AnomalyDetectionGuard(const AnomalyDetectionGuard&) = delete;
    AnomalyDetectionGuard& operator=(const AnomalyDetectionGuard&) = delete;

private:
    bool previous_;
};

}  // namespace xg
