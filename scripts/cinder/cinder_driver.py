#!/usr/bin/python3
"""Drive OpenStack Cinder's real chunked backup drivers (S3BackupDriver, PosixBackupDriver)
standalone, on a plain file, as cinder-backup would: for the interoperability test and the
benchmark. Run it with Debian's /usr/bin/python3 (python3-cinder lives in its dist-packages).

Only the edges are faked: the driver's db (volume row, volume metadata), the Backup object's
save/refresh/get_by_id (kept as JSON files in --state), and usage notifications. Everything
between (chunking, hashing, compression, object naming, _metadata/_sha256file, S3/posix I/O,
restore) is Cinder's own code.

  backup  --driver s3|posix --file F --volume-id V --backup-id B [--parent-id P]
          [--compression zlib|zstd|none] [--object-size N] [--container C]
  restore --driver s3|posix --file F --backup-id B [--volume-id V]
  export-record --backup-id B
  delete  --driver s3|posix --backup-id B

Common: --state DIR (backup rows as <id>.json; a caller may write rows of backups made by
another writer there), --s3-endpoint URL --bucket NAME [--access-key K --secret-key S],
--posix-path DIR. Prints one JSON object: elapsed seconds, peak RSS, container, prefix,
object_count, and the export record.
"""
import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from eventlet import tpool  # noqa: E402
from oslo_config import cfg  # noqa: E402

from cinder import context as cinder_context  # noqa: E402
from cinder import exception  # noqa: E402
from cinder import objects  # noqa: E402

objects.register_all()
from cinder.backup.drivers import posix as posix_driver  # noqa: E402
from cinder.backup.drivers import s3 as s3_driver  # noqa: E402
from cinder.volume import volume_utils  # noqa: E402

CONF = cfg.CONF
GiB = 1024 ** 3
# Fields of a Backup row kept in the state directory (the rest default to None).
ROW_FIELDS = ('id', 'volume_id', 'parent_id', 'size', 'container', 'service_metadata',
              'object_count', 'status', 'display_name', 'display_description', 'service',
              'availability_zone', 'created_at', 'data_timestamp', 'snapshot_id',
              'num_dependent_backups')


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('command', choices=['backup', 'restore', 'export-record', 'delete'])
    p.add_argument('--driver', choices=['s3', 'posix'], default='s3')
    p.add_argument('--file')
    p.add_argument('--volume-id')
    p.add_argument('--backup-id', required=True)
    p.add_argument('--parent-id')
    p.add_argument('--compression', default='zlib')
    p.add_argument('--object-size', type=int)
    p.add_argument('--container')
    p.add_argument('--state', required=True)
    p.add_argument('--s3-endpoint')
    p.add_argument('--bucket', default='volumebackups')
    p.add_argument('--access-key', default='cinder')
    p.add_argument('--secret-key', default='cinder-secret')
    p.add_argument('--posix-path')
    p.add_argument('--debug', action='store_true')
    return p.parse_args(argv)


def configure(args):
    CONF([], project='cinder', default_config_files=[])
    # Constructing a driver builds a DB engine; no table is ever used.
    CONF.set_override('connection', 'sqlite://', group='database')
    CONF.set_override('backup_compression_algorithm', args.compression)
    CONF.set_override('backup_s3_endpoint_url', args.s3_endpoint)
    CONF.set_override('backup_s3_store_access_key', args.access_key)
    CONF.set_override('backup_s3_store_secret_key', args.secret_key)
    CONF.set_override('backup_s3_store_bucket', args.bucket)
    CONF.set_override('backup_s3_verify_ssl', False)
    CONF.set_override('backup_posix_path', args.posix_path)
    if args.object_size:
        CONF.set_override('backup_s3_object_size', args.object_size)
        CONF.set_override('backup_file_size', args.object_size)
    # The backup service's own setting: native threads for I/O and compression.
    tpool.set_num_threads(60)


class VolumeRow(dict):
    """A volume row: indexable like a dict, iterates as (key, value) pairs like an ORM row."""

    def __iter__(self):
        return iter(list(self.items()))


class FakeDb:
    """The few db calls the chunked driver and BackupMetadataAPI make."""

    def __init__(self, volume):
        self.volume = volume
        self.metadata = {}

    def volume_get(self, ctx, volume_id):
        return self.volume

    def volume_update(self, ctx, volume_id, values):
        self.volume.update(values)

    def volume_metadata_get(self, ctx, volume_id):
        return dict(self.metadata)

    def volume_metadata_update(self, ctx, volume_id, metadata, delete):
        self.metadata = dict(metadata) if delete else {**self.metadata, **metadata}

    def volume_glance_metadata_get(self, ctx, volume_id):
        raise exception.GlanceMetadataNotFound(id=volume_id)

    def dispose_engine(self):
        pass


def row_path(state, backup_id):
    return os.path.join(state, backup_id + '.json')


def install_backup_fakes(ctx, state):
    """Backup.save/refresh/get_by_id from JSON files; notifications off."""

    def to_row(b):
        row = {}
        for f in ROW_FIELDS:
            if b.obj_attr_is_set(f):
                v = getattr(b, f)
                row[f] = v.isoformat() if isinstance(v, datetime.datetime) else v
        return row

    def save(self):
        with open(row_path(state, self.id), 'w') as fh:
            json.dump(to_row(self), fh, indent=1, sort_keys=True)
        self.obj_reset_changes()

    def load(backup_id):
        with open(row_path(state, backup_id)) as fh:
            row = json.load(fh)
        for k in ('created_at', 'data_timestamp'):
            if row.get(k):
                row[k] = datetime.datetime.fromisoformat(row[k])
        b = objects.Backup(context=ctx, **{k: v for k, v in row.items() if k in ROW_FIELDS})
        # Fields this harness does not track still have to be set for encode_record.
        defaults = {'metadata': {}, 'deleted': False, 'user_id': 'bench', 'project_id': 'bench'}
        for name in objects.Backup.fields:
            if name != 'parent' and not b.obj_attr_is_set(name):
                setattr(b, name, defaults.get(name))
        b.obj_reset_changes()
        return b

    objects.Backup.save = save
    # The driver polls status between chunks; this process is the only writer.
    objects.Backup.refresh = lambda self: None
    objects.Backup.get_by_id = classmethod(lambda cls, c, backup_id, *a, **kw: load(backup_id))
    volume_utils.notify_about_backup_usage = lambda *a, **kw: None
    return load


def make_driver(args, ctx, volume):
    cls = s3_driver.S3BackupDriver if args.driver == 's3' else posix_driver.PosixBackupDriver
    driver = cls(ctx)
    fake = FakeDb(volume)
    driver.db = fake
    driver.backup_meta_api.db = fake
    return driver, '%s.%s' % (cls.__module__, cls.__name__)


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main(argv):
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, stream=sys.stderr)
    configure(args)
    os.makedirs(args.state, exist_ok=True)
    ctx = cinder_context.get_admin_context()
    load = install_backup_fakes(ctx, args.state)

    out = {'command': args.command, 'driver': args.driver, 'backup_id': args.backup_id}
    if args.command == 'backup':
        size = os.path.getsize(args.file)
        gib = max(1, math.ceil(size / GiB))
        volume = VolumeRow(id=args.volume_id, size=gib, display_name='bench', status='backing-up')
        driver, service = make_driver(args, ctx, volume)
        now = datetime.datetime.now(datetime.timezone.utc)
        backup = objects.Backup(
            context=ctx, id=args.backup_id, volume_id=args.volume_id, parent_id=args.parent_id,
            size=gib, container=args.container, status='creating', display_name=None,
            display_description=None, service=service, availability_zone=CONF.storage_availability_zone,
            created_at=now, data_timestamp=now, num_dependent_backups=0, object_count=0,
            user_id='bench', project_id='bench', host='bench', snapshot_id=None,
            service_metadata=None)
        backup.save()
        t0 = time.monotonic()
        with open(args.file, 'rb') as fh:
            driver.backup(backup, tpool.Proxy(fh))
        out['elapsed'] = time.monotonic() - t0
        backup.status = 'available'
        backup.save()
    elif args.command == 'restore':
        backup = load(args.backup_id)
        volume_id = args.volume_id or backup.volume_id
        volume = VolumeRow(id=volume_id, size=backup.size, display_name=None, status='restoring-backup')
        driver, _ = make_driver(args, ctx, volume)
        backup.status = 'restoring'
        # The restore target must exist (Cinder restores into an existing volume or a new one).
        mode = 'r+b' if os.path.exists(args.file) else 'w+b'
        t0 = time.monotonic()
        with open(args.file, mode) as fh:
            driver.restore(backup, volume_id, tpool.Proxy(fh))
        out['elapsed'] = time.monotonic() - t0
    elif args.command == 'delete':
        backup = load(args.backup_id)
        driver, _ = make_driver(args, ctx, VolumeRow(id=backup.volume_id, size=backup.size))
        t0 = time.monotonic()
        driver.delete_backup(backup)
        out['elapsed'] = time.monotonic() - t0
    backup = load(args.backup_id)
    driver, _ = make_driver(args, ctx, VolumeRow(id=backup.volume_id, size=backup.size))
    out.update(container=backup.container, prefix=backup.service_metadata,
               object_count=backup.object_count, parent_id=backup.parent_id, size_gib=backup.size,
               service=backup.service,
               record=backup.encode_record(driver_info=driver.export_record(backup)),
               peak_rss_bytes=peak_rss_bytes(),
               cpu_seconds=sum(resource.getrusage(resource.RUSAGE_SELF)[:2]))
    print(json.dumps(out))


if __name__ == '__main__':
    main(sys.argv[1:])
