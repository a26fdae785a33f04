// Greets a troupe Greeter actor from Node.js with @grpc/grpc-js and
// @grpc/proto-loader, which load greeter.proto at run time: nothing of
// troupe's is used. The actor is named in the call's metadata (see
// client.py).
//
//   npm ci && node client.js --node=HOST:PORT [--on=HOST:PORT] [--key=KEY]
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

function flag(name, fallback) {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? arg.slice(name.length + 3) : fallback;
}

async function main() {
  const node = flag('node');
  if (!node) {
    console.error('usage: node client.js --node=HOST:PORT [--on=HOST:PORT] [--key=KEY]');
    process.exit(2);
  }
  const definition = protoLoader.loadSync(path.join(__dirname, 'greeter.proto'));
  const {troupe} = grpc.loadPackageDefinition(definition);
  const stub = new troupe.examples.Greeter(node, grpc.credentials.createInsecure());
  const who = new grpc.Metadata();
  who.set('troupe-kind', 'greeter');
  who.set('troupe-key', flag('key', 'js'));
  if (flag('on')) who.set('troupe-node', flag('on'));
  const deadline = () => ({deadline: Date.now() + 5000});

  const greet = (name) => new Promise((resolve, reject) =>
    stub.Greet({name}, who, deadline(), (error, reply) => (error ? reject(error) : resolve(reply))));
  for (const name of ['Ada', 'Grace']) {
    const reply = await greet(name);
    console.log(`node.js: ${reply.message} (from ${reply.greeter}, greeting ${reply.count})`);
  }
  await new Promise((resolve, reject) => {
    const call = stub.GreetMany({name: 'Linus', times: 3}, who, deadline());
    call.on('data', (reply) => console.log(`node.js stream: ${reply.message} (greeting ${reply.count})`));
    call.on('error', reject);
    call.on('end', resolve);
  });
  try {
    await greet('');
  } catch (error) {
    console.log(`node.js: empty name: ${grpc.status[error.code]}: ${error.details}`);
  }
  stub.close();
}

main().catch((error) => {
  console.error(`node.js: ${error.message}`);
  process.exit(1);
});
