// Guard for `npm run test:kms`: the real-KMS suite needs KMS_URI, or it would silently test the fake.
if (!process.env.KMS_URI) {
  console.error('test:kms runs the integration suite against a real Kurento Media Server.');
  console.error('Set KMS_URI, e.g.: docker run -d --network host kurento/kurento-media-server:7.3');
  console.error('                   KMS_URI=ws://127.0.0.1:8888/kurento npm run test:kms');
  process.exit(2);
}
console.log(`integration suite against the real KMS at ${process.env.KMS_URI}`);
