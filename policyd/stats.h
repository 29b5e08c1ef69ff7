/*
 * stats.h -- postgate-policyd's metrics: requests and their answer time per service
 * (policy delegation, SASL, socketmap), and SASL logins by result.
 * Registered once at start (stats_init); cheap from any connection thread.
 */
#ifndef PG_POLICYD_STATS_H
#define PG_POLICYD_STATS_H

typedef enum { STATS_POLICY, STATS_SASL, STATS_SOCKETMAP, STATS_NSERVICES } STATS_SERVICE;
typedef enum { LOGIN_OK, LOGIN_FAILED, LOGIN_SUSPENDED, LOGIN_TEMPFAIL, LOGIN_THROTTLED, LOGIN_NRESULTS } STATS_LOGIN;

void stats_init(void);
/* One request of service answered, seconds after it was complete. */
void stats_request(STATS_SERVICE service, double seconds);
void stats_login(STATS_LOGIN result);

#endif
