/*
 * pwpolicy.h -- the one password policy for people's passwords (admin users now, mailboxes
 * later): a least length in characters, the character classes that must appear (upper case,
 * lower case, digits, symbols) and a list of known-breached passwords that are refused
 * whatever their shape. Defaults follow poste.io: 10 characters mixing all four classes.
 *
 * A policy is built once (pwpolicy_new(), or pwpolicy_from_config() from the passwords.*
 * keys) and is immutable afterwards, so threads share it without locks. The breached list
 * is read once, folded to lower case, sorted and searched with bsearch(): the comparison is
 * case-insensitive (ASCII letters). A listed password with digits or symbols added before or
 * after it ("Password123!", "Dragon-2024") is refused too: that is how a listed password
 * is dressed up to pass the character-class rules. A refusal names the rule that failed, as
 * a fixed name for programs (PWPOLICY_RULE_*) and a sentence for the person.
 *
 * Checked only where a password is set; existing passwords are never re-checked.
 * Must never: log or keep a password it was asked about.
 */
#ifndef PG_PWPOLICY_H
#define PG_PWPOLICY_H

#include "mail/conf.h"

/* Rule names (stable: they appear in API errors and scripts may test them). */
#define PWPOLICY_RULE_MIN_LENGTH "min_length"
#define PWPOLICY_RULE_MAX_LENGTH "max_length"
#define PWPOLICY_RULE_UPPER "upper"
#define PWPOLICY_RULE_LOWER "lower"
#define PWPOLICY_RULE_DIGIT "digit"
#define PWPOLICY_RULE_SYMBOL "symbol"
#define PWPOLICY_RULE_BREACHED "breached"

/* Bounds of a breached-password list file. */
#define PWPOLICY_LIST_MAX_BYTES (64 * 1024 * 1024)

typedef struct pwpolicy_rules {
    int min_length;             /* characters (UTF-8 code points), 1 .. PASSWORD_MAX_LENGTH */
    int require_upper;          /* an ASCII upper-case letter */
    int require_lower;          /* an ASCII lower-case letter */
    int require_digit;          /* an ASCII digit */
    int require_symbol;         /* anything but an ASCII letter or digit */
} PWPOLICY_RULES;

typedef struct pwpolicy PWPOLICY;

/* A policy of rules, refusing the passwords listed in breached_list (a file of one password
 * a line; empty lines and lines starting with '#' are skipped), or none when breached_list
 * is NULL or "". NULL with *error_r (mem_free it) naming the file when it cannot be read or
 * is over PWPOLICY_LIST_MAX_BYTES. */
PWPOLICY *pwpolicy_new(const PWPOLICY_RULES *rules, const char *breached_list, char **error_r);
/* The policy of cfg's passwords.* keys; errors also name the key and where it was set. */
PWPOLICY *pwpolicy_from_config(const PGCONF *cfg, char **error_r);
void pwpolicy_free(PWPOLICY *p);

/* 0 when password passes every rule. -1 when one refuses it: *rule_r is its name
 * (PWPOLICY_RULE_*) and *reason_r the sentence for the person ("password must be at least
 * 10 characters"); both belong to the policy and live as long as it does. Rules are tried
 * in a fixed order: length, upper, lower, digit, symbol, breached. */
int pwpolicy_check(const PWPOLICY *p, const char *password, const char **rule_r, const char **reason_r);

/* How many distinct passwords the breached list holds (0 without one). */
size_t pwpolicy_breached_count(const PWPOLICY *p);
/* One line describing the rules for people ("at least 10 characters with upper case, ..."). */
const char *pwpolicy_describe(const PWPOLICY *p);

#endif
