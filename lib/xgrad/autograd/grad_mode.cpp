#include "xgrad/autograd/grad_mode.hpp"

namespace xg {
namespace {
thread_local bool grad_mode_on = true;
thread_local bool anomaly_on = false;
}  // namespace

bool grad_enabled() { return grad_mode_on; }

NoGradGuard::NoGradGuard() : previous_(grad_mode_on) { grad_mode_on = false; }
NoGradGuard::~NoGradGuard() { grad_mode_on = previous_; }

GradModeGuard::GradModeGuard(bool on) : previous_(grad_mode_on) { grad_mode_on = on; }
GradModeGuard::~GradModeGuard() { grad_mode_on = previous_; }

bool anomaly_detection_enabled() { return anomaly_on; }
void set_anomaly_detection(bool on) { anomaly_on = on; }

AnomalyDetectionGuard::AnomalyDetectionGuard(bool on) : previous_(anomaly_on) { anomaly_on = on; }
AnomalyDetectionGuard::~AnomalyDetectionGuard() { anomaly_on = previous_; }

}  // namespace xg
