import './aliases';
import { Topics } from '@spendops/contracts';

process.stdout.write(`${Object.values(Topics).join(' ')}\n`);
