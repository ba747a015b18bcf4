#!/usr/bin/env node
// A real S3 HTTP server for the tests: s3rver (objects stored as files under --directory),
// plus the two multipart operations s3rver 3.7 lacks, so S3BlobStore.discard() is exercised
// for real in CI:
//   AbortMultipartUpload   DELETE /bucket/key?uploadId=ID  (s3rver answers MethodNotAllowed)
//   ListMultipartUploads   GET    /bucket?uploads          (s3rver answers NotImplemented)
// Both run behind s3rver's own signature check. Path-style addressing only.
//   node s3server.js --directory DIR --port PORT [--address 127.0.0.1]
'use strict';

const fs = require('fs');
const path = require('path');
const S3rver = require('s3rver');
const S3Error = require('s3rver/lib/models/error');
const authentication = require('s3rver/lib/middleware/authentication');

const UPLOAD_ID = /^[0-9a-f]{32}$/;

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  if (at >= 0 && at + 1 < process.argv.length) return process.argv[at + 1];
  if (fallback === undefined) throw new Error(`missing --${name}`);
  return fallback;
}

function uploadsDir(store, bucket) {
  return store.getResourcePath(bucket, undefined, 'uploads');
}

function bucketDir(store, bucket) {
  return path.join(store.rootDirectory, bucket);
}

async function abortUpload(ctx) {
  const { bucket, key } = ctx.params;
  const uploadId = String(ctx.query.uploadId);
  const dir = path.join(uploadsDir(ctx.store, bucket), uploadId);
  const owner = UPLOAD_ID.test(uploadId) && (await readText(path.join(dir, 'key')));
  if (owner !== key) {
    throw new S3Error('NoSuchUpload', 'The specified upload does not exist.', { UploadId: uploadId });
  }
  await fs.promises.rm(dir, { recursive: true, force: true });
  ctx.status = 204;
}

async function listUploads(ctx) {
  const { bucket } = ctx.params;
  if (!fs.existsSync(bucketDir(ctx.store, bucket))) {
    throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
  }
  const prefix = String(ctx.query.prefix || '');
  const root = uploadsDir(ctx.store, bucket);
  const ids = fs.existsSync(root) ? await fs.promises.readdir(root) : [];
  const uploads = [];
  for (const id of ids.filter(id => UPLOAD_ID.test(id)).sort()) {
    const key = await readText(path.join(root, id, 'key'));
    if (key !== null && key.startsWith(prefix)) uploads.push({ Key: key, UploadId: id });
  }
  ctx.body = {
    ListMultipartUploadsResult: {
      '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
      Bucket: bucket,
      Prefix: prefix,
      MaxUploads: 1000,
      IsTruncated: false,
      Upload: uploads,
    },
  };
}

async function readText(file) {
  try {
    return (await fs.promises.readFile(file)).toString();
  } catch (err) {
    if (err.code === 'ENOENT') return null;
    throw err;
  }
}

// Path-style only: /bucket or /bucket/key. Hand-parsed rather than a second @koa/router,
// whose match would leave ctx.routerPath set and derail s3rver's own router.
function resource(ctx) {
  const match = /^\/([^/]+)(?:\/(.+))?$/.exec(ctx.path);
  if (!match) return null;
  return { bucket: decodeURIComponent(match[1]), key: match[2] && decodeURIComponent(match[2]) };
}

function multipartRoutes() {
  const auth = authentication();
  return async (ctx, next) => {
    const target = resource(ctx);
    let handler = null;
    if (target && target.key && ctx.method === 'DELETE' && 'uploadId' in ctx.query) handler = abortUpload;
    if (target && !target.key && ctx.method === 'GET' && 'uploads' in ctx.query) handler = listUploads;
    if (!handler) return next();
    ctx.params = target;
    return auth(ctx, () => handler(ctx));
  };
}

async function main() {
  const server = new S3rver({
    directory: option('directory'),
    address: option('address', '127.0.0.1'),
    port: Number(option('port')),
    silent: true,
    vhostBuckets: false,
  });
  // Before s3rver's router (the last middleware), after its XML encoder and vhost handling.
  server.middleware.splice(server.middleware.length - 1, 0, multipartRoutes());
  const { address, port } = await server.run();
  console.log(`s3server listening on ${address}:${port}`);
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
