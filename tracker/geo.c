/*
 * geo.c -- country and city of a click or load from a MaxMind GeoLite2/GeoIP2 City
 * database (libmaxminddb), when tracker.geoip_database names one. Lookups are made by
 * the recorder thread while writing, never while answering a request.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <maxminddb.h>

#include "tracker.h"
#include "util/mem.h"
#include "util/msg.h"

struct geo {
    MMDB_s db;
};

GEO *
geo_open(const char *path)
{
    GEO *geo;
    int status;

    if (path == NULL || *path == '\0')
        return NULL;
    geo = mem_zalloc(sizeof(*geo));
    if ((status = MMDB_open(path, MMDB_MODE_MMAP, &geo->db)) != MMDB_SUCCESS) {
        msg_warn("tracker.geoip_database %s: %s; clicks and loads are recorded without a location", path,
                 MMDB_strerror(status));
        mem_free(geo);
        return NULL;
    }
    msg_info("geolocation from %s (%s)", path, geo->db.metadata.database_type);
    return geo;
}

void
geo_close(GEO *geo)
{
    if (geo == NULL)
        return;
    MMDB_close(&geo->db);
    mem_free(geo);
}

static void
string_at(MMDB_lookup_result_s *res, char *out, size_t size, const char *const *path)
{
    MMDB_entry_data_s data;

    out[0] = '\0';
    if (MMDB_aget_value(&res->entry, &data, path) == MMDB_SUCCESS && data.has_data
        && data.type == MMDB_DATA_TYPE_UTF8_STRING && data.data_size < size) {
        memcpy(out, data.utf8_string, data.data_size);
        out[data.data_size] = '\0';
    }
}

void
geo_lookup(GEO *geo, const char *ip, char country[3], char *city, size_t size)
{
    static const char *const country_path[] = {"country", "iso_code", NULL};
    static const char *const city_path[] = {"city", "names", "en", NULL};
    MMDB_lookup_result_s res;
    int gai = 0, status = 0;

    country[0] = '\0';
    city[0] = '\0';
    if (geo == NULL || ip == NULL)
        return;
    res = MMDB_lookup_string(&geo->db, ip, &gai, &status);
    if (gai != 0 || status != MMDB_SUCCESS || !res.found_entry)
        return;
    string_at(&res, country, 3, country_path);
    string_at(&res, city, size, city_path);
}
